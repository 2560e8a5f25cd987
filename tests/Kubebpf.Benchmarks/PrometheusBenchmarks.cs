using System.Text;
using BenchmarkDotNet.Attributes;
using Kubebpf.Prometheus;
using Kubebpf.Prometheus.Exposition;
using Kubebpf.Prometheus.Metrics;
using Kubebpf.Prometheus.RemoteWrite;
using Kubebpf.Sdk.Events;
using Microsoft.Extensions.Options;

namespace Kubebpf.Benchmarks;

/// <summary>
/// The Prometheus sink's costs: per exchange counted (fed one drained batch at a time; its series exist after setup,
/// so it should report 0 B/op; each is counted in classic and native buckets), and per scrape (text, or protobuf with
/// native histograms) or remote-write request over the series those exchanges made.
/// </summary>
[MemoryDiagnoser]
public class PrometheusBenchmarks
{
    private const int BatchSize = 256;

    private Exchange[] _batch = [];
    private ExchangeMetrics _exchanges = null!;
    private MetricCollector _collector = null!;

    [GlobalSetup]
    public void Setup()
    {
        _batch = SampleExchanges.Create(BatchSize);
        var metrics = new RedBenchmarks.NullAgentMetrics();
        var options = new PrometheusOptions();
        _exchanges = new ExchangeMetrics(Options.Create(options), new SeriesBudget(options.MaxSeries, metrics), metrics, TimeProvider.System);
        _exchanges.OnEvents(_batch);
        _collector = new MetricCollector([_exchanges]);
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void CountExchanges() => _exchanges.OnEvents(_batch);

    [Benchmark]
    public int Scrape()
    {
        var text = new StringBuilder();
        TextExposition.Write(text, _collector.Collect(), openMetrics: false);
        return text.Length;
    }

    [Benchmark]
    public int ScrapeProtobuf()
    {
        var output = new ProtoWriter();
        ProtobufExposition.Write(output, _collector.Collect());
        return output.Written.Length;
    }

    [Benchmark]
    public int EncodeRemoteWrite() => WriteRequestEncoder.Encode(_collector.Collect(), new WriteSettings(1_700_000_000_000, [])).Body.Length;
}
