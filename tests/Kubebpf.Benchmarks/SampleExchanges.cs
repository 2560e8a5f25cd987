using System.Net;
using Kubebpf.Http;
using Kubebpf.Red.CallLog;
using Kubebpf.Sdk.CallLog;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Benchmarks;

/// <summary>A deterministic mix of HTTP exchanges as the HTTP parser publishes them: two workloads, in and out, a few paths, some errors.</summary>
internal static class SampleExchanges
{
    public static Exchange[] Create(int count)
    {
        var cart = new WorkloadIdentity("shop", "cart-7d9f-x2b4q", "Deployment", "cart", "cart-svc", "node-1");
        var payments = new WorkloadIdentity("shop", "payments-0", "StatefulSet", "payments", "payments", "node-1");
        string[] paths = ["/users/1234", "/users/1234/orders", "/api/v1/items", "/orders/550e8400-e29b-41d4-a716-446655440000"];
        var details = new HttpDetails("HTTP/1.1", "cart.shop", null);
        var random = new Random(42);
        var exchanges = new Exchange[count];
        for (var i = 0; i < count; i++)
        {
            var failed = i % 20 == 0;
            exchanges[i] = new Exchange
            {
                Protocol = HttpProtocolDescriptor.Instance,
                Operation = i % 5 == 0 ? "POST" : "GET",
                Resource = paths[i % paths.Length],
                Code = failed ? 500 : 200,
                Status = failed ? "5xx" : "2xx",
                Outcome = failed ? ExchangeOutcome.Error : ExchangeOutcome.Success,
                StartUnixNs = 1_700_000_000_000_000_000 + i,
                DurationNs = random.NextInt64(100_000, 50_000_000),
                RequestBytes = i % 5 == 0 ? 512 : 0,
                ResponseBytes = random.Next(20, 20_000),
                Transport = Transport.Tcp,
                Client = NetworkEndpoint.From(IPAddress.Parse("10.1.0.5"), (ushort)(40000 + i)),
                Server = NetworkEndpoint.From(IPAddress.Parse("10.1.0.2"), 8080),
                Direction = i % 3 == 0 ? TrafficDirection.Out : TrafficDirection.In,
                Interface = "veth1",
                Workload = i % 2 == 0 ? cart : payments,
                Peer = i % 2 == 0 ? payments : null,
                Details = details,
            };
        }

        return exchanges;
    }

    /// <summary>The call-log points the real call-log writer makes of <see cref="Create"/>'s exchanges (sampling off).</summary>
    public static MetricPoint[] CallLogPoints(int count)
    {
        var collected = new CollectingPointWriter();
        new CallLogWriter(collected, new RedBenchmarks.NullAgentMetrics(), new CallLogSamplingOptions { Enabled = false }, TimeProvider.System, null, null)
            .OnEvents(Create(count));
        return [.. collected.Points];
    }

    private sealed class CollectingPointWriter : IPointWriter
    {
        public List<MetricPoint> Points { get; } = [];

        public void Write(MetricPoint point) => Points.Add(point);

        public void Write(IReadOnlyList<MetricPoint> points) => Points.AddRange(points);
    }
}
