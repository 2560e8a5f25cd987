using BenchmarkDotNet.Attributes;
using Kubebpf.Otlp;
using Kubebpf.Otlp.CallLog;
using Kubebpf.Otlp.Metrics;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;

namespace Kubebpf.Benchmarks;

/// <summary>
/// Cost per exchange of the OTLP sink's two subscribers, fed one drained batch at a time as probes do: recording into
/// the OpenTelemetry SDK's counter and histogram (series exist after setup), and writing call-log records into the
/// logger's batch queue. The exporters point at a closed port without retries: metrics export once a minute, and each
/// full batch of log records fails at once and leaves the queue (on the processor's thread, not measured here).
/// </summary>
[MemoryDiagnoser]
public class OtlpBenchmarks
{
    private const int BatchSize = 256;

    private Exchange[] _batch = [];
    private OtlpTelemetry _telemetry = null!;
    private ExchangeMetrics _metrics = null!;
    private CallLogExporter _callLog = null!;

    [GlobalSetup]
    public void Setup()
    {
        _batch = SampleExchanges.Create(BatchSize);
        var options = new OtlpOptions
        {
            Endpoint = "http://127.0.0.1:9",
            ExportInterval = TimeSpan.FromMinutes(1),
            Retry = false,
            CallLog = new OtlpCallLogOptions { Enabled = true, MaxQueueSize = 65_536, MaxExportBatchSize = 512, ExportInterval = TimeSpan.FromMinutes(1) },
        };
        var agentMetrics = new RedBenchmarks.NullAgentMetrics();
        var context = new PluginContext("OtlpBenchmark", "", new ConfigurationBuilder().Build());
        _telemetry = new OtlpTelemetry(options, context, agentMetrics, TimeProvider.System);
        _metrics = new ExchangeMetrics(_telemetry, options, agentMetrics);
        _callLog = new CallLogExporter(_telemetry, agentMetrics);
        _metrics.OnEvents(_batch);
    }

    [GlobalCleanup]
    public void Cleanup() => _telemetry.Dispose();

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void RecordMetrics() => _metrics.OnEvents(_batch);

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void WriteCallLog() => _callLog.OnEvents(_batch);
}
