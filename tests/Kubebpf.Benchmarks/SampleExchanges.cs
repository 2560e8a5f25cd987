using System.Net;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Benchmarks;

/// <summary>A deterministic mix of exchanges as an HTTP probe publishes them: two workloads, in and out, a few paths, some errors.</summary>
internal static class SampleExchanges
{
    public static HttpExchange[] Create(int count)
    {
        var cart = new WorkloadIdentity("shop", "cart-7d9f-x2b4q", "Deployment", "cart", "cart-svc", "node-1");
        var payments = new WorkloadIdentity("shop", "payments-0", "StatefulSet", "payments", "payments", "node-1");
        string[] paths = ["/users/1234", "/users/1234/orders", "/api/v1/items", "/orders/550e8400-e29b-41d4-a716-446655440000"];
        var random = new Random(42);
        var exchanges = new HttpExchange[count];
        for (var i = 0; i < count; i++)
        {
            exchanges[i] = new HttpExchange
            {
                StartUnixNs = 1_700_000_000_000_000_000 + i,
                DurationNs = random.NextInt64(100_000, 50_000_000),
                Direction = i % 3 == 0 ? TrafficDirection.Out : TrafficDirection.In,
                Method = i % 5 == 0 ? "POST" : "GET",
                Path = paths[i % paths.Length],
                Status = i % 20 == 0 ? 500 : 200,
                Version = "HTTP/1.1",
                Host = "cart.shop",
                RequestBodyBytes = i % 5 == 0 ? 512 : 0,
                ResponseBodyBytes = random.Next(20, 20_000),
                Client = NetworkEndpoint.From(IPAddress.Parse("10.1.0.5"), (ushort)(40000 + i)),
                Server = NetworkEndpoint.From(IPAddress.Parse("10.1.0.2"), 8080),
                Interface = "veth1",
                Workload = i % 2 == 0 ? cart : payments,
                Peer = i % 2 == 0 ? payments : null,
            };
        }

        return exchanges;
    }
}
