using BenchmarkDotNet.Attributes;
using Kubebpf.Http;
using Kubebpf.Red;
using Kubebpf.Red.Aggregation;
using Kubebpf.Red.CallLog;
using Kubebpf.Sdk.CallLog;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.Options;

namespace Kubebpf.Benchmarks;

/// <summary>
/// Cost per exchange of the R.E.D. plugin's two subscribers, fed one drained batch at a time as probes do.
/// The aggregator's series exist after setup, so it should report 0 B/op; the unsampled call log allocates a point per
/// exchange, the sampled one (the default policy, its budget full, as at saturation) only its errors (5 % of the sample
/// exchanges) at once and the kept others at the flush.
/// <see cref="ByStatus"/> feeds the same exchanges under a protocol whose R.E.D. series are split by status, as DNS's are.
/// The mix changes series at almost every exchange; <see cref="AggregateOneRoute"/> feeds what a load test on one route
/// makes, observed at both pods: the client's <c>out</c> and the server's <c>in</c> exchange of each request, each
/// connection with its own copy of the path string.
/// </summary>
[MemoryDiagnoser]
public class RedBenchmarks
{
    private const int BatchSize = 256;

    private Exchange[] _batch = [];
    private Exchange[] _oneRoute = [];
    private readonly NullPointWriter _discard = new();
    private RedAggregator _aggregator = null!;
    private CallLogWriter _callLog = null!;
    private CallLogWriter _sampledCallLog = null!;
    private long _windowEndUnixNs = 1_700_000_000_000_000_000;

    /// <summary>Whether the exchanges' protocol groups its R.E.D. series by status.</summary>
    [Params(false, true)]
    public bool ByStatus { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var http = HttpProtocolDescriptor.Instance;
        var byStatus = new ProtocolDescriptor("http_by_status") { NormalizeResource = http.NormalizeResource, RedGroupsByStatus = true };
        _batch = [.. SampleExchanges.Create(BatchSize).Select(e => ByStatus ? e with { Protocol = byStatus } : e)];
        _aggregator = new RedAggregator(Options.Create(new RedOptions()), new NullAgentMetrics(), TimeProvider.System);
        _callLog = new CallLogWriter(_discard, new NullAgentMetrics(), new CallLogSamplingOptions { Enabled = false }, TimeProvider.System, null, null);
        _sampledCallLog = new CallLogWriter(_discard, new NullAgentMetrics(), new CallLogSamplingOptions(), TimeProvider.System, null, null);
        _aggregator.OnEvents(_batch);
        _oneRoute = [.. _batch.Take(BatchSize / 2).SelectMany((e, i) => new[]
        {
            e with { Resource = new string("/20B".AsSpan()), Direction = TrafficDirection.Out, Operation = "GET", Status = "2xx" },
            e with { Resource = new string("/20B".AsSpan()), Direction = TrafficDirection.In, Operation = "GET", Status = "2xx", Workload = _batch[1].Workload },
        })];
        _aggregator.OnEvents(_oneRoute);
        for (var i = 0; i < 100; i++)
        {
            _sampledCallLog.OnEvents(_batch); // past its budget: from now on each exchange replaces a member or is dropped
        }
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void Aggregate() => _aggregator.OnEvents(_batch);

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void AggregateOneRoute() => _aggregator.OnEvents(_oneRoute);

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void WriteCallLog() => _callLog.OnEvents(_batch);

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void SampleCallLog() => _sampledCallLog.OnEvents(_batch);

    /// <summary>One batch into the sampled call log, then a flush writing its budget's 1,000 weighted points (a 10 s window).</summary>
    [Benchmark]
    public void SampleCallLogAndFlush()
    {
        _sampledCallLog.OnEvents(_batch);
        _windowEndUnixNs += 10_000_000_000;
        _sampledCallLog.Flush(_windowEndUnixNs, _discard);
    }

    /// <summary>One batch, then the flush that turns its series and roll-ups into points.</summary>
    [Benchmark]
    public void AggregateAndFlush()
    {
        _aggregator.OnEvents(_batch);
        _aggregator.Flush(1_700_000_010_000_000_000, _discard);
    }

    private sealed class NullPointWriter : IPointWriter
    {
        public void Write(MetricPoint point)
        {
        }

        public void Write(IReadOnlyList<MetricPoint> points)
        {
        }
    }

    /// <summary>Counters nobody reads (also used by the line-protocol benchmark's call log).</summary>
    internal sealed class NullAgentMetrics : IAgentMetrics
    {
        public Counter Counter(string name, string description) => new(name, description);

        public void Gauge(string name, string description, Func<long> read)
        {
        }
    }
}
