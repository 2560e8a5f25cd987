using System.Net;
using BenchmarkDotNet.Attributes;
using Kubebpf.Red;
using Kubebpf.Red.Aggregation;
using Kubebpf.Red.CallLog;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Options;

namespace Kubebpf.Benchmarks;

/// <summary>
/// Cost per exchange of the R.E.D. plugin's two subscribers, fed one drained batch at a time as probes do.
/// The aggregator's series exist after setup, so it should report 0 B/op; the call log allocates its points.
/// </summary>
[MemoryDiagnoser]
public class RedBenchmarks
{
    private const int BatchSize = 256;

    private readonly HttpExchange[] _batch = new HttpExchange[BatchSize];
    private readonly NullPointWriter _discard = new();
    private RedAggregator _aggregator = null!;
    private CallLogWriter _callLog = null!;

    [GlobalSetup]
    public void Setup()
    {
        var cart = new WorkloadIdentity("shop", "cart-7d9f-x2b4q", "Deployment", "cart", "cart-svc", "node-1");
        var payments = new WorkloadIdentity("shop", "payments-0", "StatefulSet", "payments", "payments", "node-1");
        string[] paths = ["/users/1234", "/users/1234/orders", "/api/v1/items", "/orders/550e8400-e29b-41d4-a716-446655440000"];
        var random = new Random(42);
        for (var i = 0; i < BatchSize; i++)
        {
            _batch[i] = new HttpExchange
            {
                StartUnixNs = 1_700_000_000_000_000_000 + i,
                DurationNs = random.NextInt64(100_000, 50_000_000),
                Direction = i % 3 == 0 ? TrafficDirection.Out : TrafficDirection.In,
                Method = i % 5 == 0 ? "POST" : "GET",
                Path = paths[i % paths.Length],
                Status = i % 20 == 0 ? 500 : 200,
                Version = "HTTP/1.1",
                Host = "cart.shop",
                Client = NetworkEndpoint.From(IPAddress.Parse("10.1.0.5"), (ushort)(40000 + i)),
                Server = NetworkEndpoint.From(IPAddress.Parse("10.1.0.2"), 8080),
                Interface = "veth1",
                Workload = i % 2 == 0 ? cart : payments,
            };
        }

        var options = Options.Create(new RedOptions());
        _aggregator = new RedAggregator(options, new NullAgentMetrics(), TimeProvider.System);
        _callLog = new CallLogWriter(_discard, options);
        _aggregator.OnEvents(_batch);
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void Aggregate() => _aggregator.OnEvents(_batch);

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void WriteCallLog() => _callLog.OnEvents(_batch);

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

    private sealed class NullAgentMetrics : IAgentMetrics
    {
        public Counter Counter(string name, string description) => new(name, description);

        public void Gauge(string name, string description, Func<long> read)
        {
        }
    }
}
