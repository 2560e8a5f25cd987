using BenchmarkDotNet.Attributes;
using Kubebpf.Otlp;
using Kubebpf.Otlp.CallLog;
using Kubebpf.Otlp.Metrics;
using Kubebpf.Sdk.CallLog;
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
    private CallLogExporter _sampledCallLog = null!;
    private System.Diagnostics.Metrics.Histogram<double> _histogram = null!;

    private static readonly KeyValuePair<string, object?>[] SdkOnlyTags =
    [
        new("k8s.namespace.name", "shop"), new("k8s.pod.name", "cart-7d9f-x2b4q"), new("k8s.deployment.name", "cart"), new("k8s.node.name", "node-1"),
        new("server.address", "10.1.0.2"), new("http.request.method", "GET"), new("http.route", "/users/{id}"), new("http.response.status_code", 200L),
    ];

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
        _callLog = new CallLogExporter(_telemetry, agentMetrics, new CallLogSamplingOptions { Enabled = false }, TimeProvider.System, random: null);
        _sampledCallLog = new CallLogExporter(_telemetry, agentMetrics, new CallLogSamplingOptions(), TimeProvider.System, random: null);
        _metrics.OnEvents(_batch);
        _histogram = _telemetry.Meter.CreateHistogram<double>("benchmark.duration", "s");
        _histogram.Record(0, SdkOnlyTags);
    }

    [GlobalCleanup]
    public void Cleanup() => _telemetry.Dispose();

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void RecordMetrics() => _metrics.OnEvents(_batch);

    /// <summary>The SDK's share: one histogram record with a series' attribute array, as <see cref="RecordMetrics"/> makes it.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void SdkHistogramRecordOnly()
    {
        for (var i = 0; i < BatchSize; i++)
        {
            _histogram.Record(0.001 * (i & 7), SdkOnlyTags);
        }
    }

    /// <summary>A record per exchange (sampling off).</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void WriteCallLog() => _callLog.OnEvents(_batch);

    /// <summary>The default policy: the batch's errors get records, the others go into the sampler's reservoirs.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void SampleCallLog() => _sampledCallLog.OnEvents(_batch);
}
