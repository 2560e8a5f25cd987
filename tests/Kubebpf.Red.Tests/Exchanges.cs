using System.Net;
using Kubebpf.Red.Aggregation;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Microsoft.Extensions.Options;

namespace Kubebpf.Red.Tests;

/// <summary>Exchanges and aggregators with readable defaults.</summary>
internal static class Exchanges
{
    public const long WindowStartUnixNs = 1_700_000_000_000_000_000;
    public const long TenSecondsNs = 10_000_000_000;

    public static readonly WorkloadIdentity Cart = new("shop", "cart-7d9f-x2b4q", "Deployment", "cart", "cart-svc", "node-1");
    public static readonly WorkloadIdentity CartReplica = new("shop", "cart-7d9f-p8w2z", "Deployment", "cart", "cart-svc", "node-1");
    public static readonly WorkloadIdentity Payments = new("shop", "payments-0", "StatefulSet", "payments", "", "node-2");

    public static readonly NetworkEndpoint Client = NetworkEndpoint.From(IPAddress.Parse("10.1.0.5"), 51000);
    public static readonly NetworkEndpoint Server = NetworkEndpoint.From(IPAddress.Parse("10.1.0.2"), 8080);

    public static HttpExchange Make(
        string path = "/",
        int status = 200,
        long durationNs = 1_000_000,
        TrafficDirection direction = TrafficDirection.In,
        string method = "GET",
        WorkloadIdentity? workload = null,
        bool unknownWorkload = false,
        WorkloadIdentity? peer = null,
        string? query = null,
        string? host = "cart.shop",
        long requestBytes = 0,
        long responseBytes = 512,
        long startUnixNs = WindowStartUnixNs + 1) => new()
    {
        StartUnixNs = startUnixNs,
        DurationNs = durationNs,
        Direction = direction,
        Method = method,
        Path = path,
        Query = query,
        Status = status,
        Version = "HTTP/1.1",
        Host = host,
        RequestBodyBytes = requestBytes,
        ResponseBodyBytes = responseBytes,
        Client = Client,
        Server = Server,
        Interface = "veth1",
        Workload = unknownWorkload ? null : workload ?? Cart,
        Peer = peer,
    };

    public static RedAggregator Aggregator(TestAgentMetrics? metrics = null, int maxRoutesPerWorkload = 100, int maxSeries = 10_000) =>
        new(
            Options.Create(new RedOptions { MaxRoutesPerWorkload = maxRoutesPerWorkload, MaxSeries = maxSeries }),
            metrics ?? new TestAgentMetrics(),
            new FixedTimeProvider(WindowStartUnixNs));

    public static void Feed(this IEventSubscriber<HttpExchange> subscriber, params HttpExchange[] exchanges) =>
        subscriber.OnEvents(exchanges);
}

/// <summary>A clock standing still at one instant.</summary>
internal sealed class FixedTimeProvider(long unixNs) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddTicks(unixNs / TimeSpan.NanosecondsPerTick);
}
