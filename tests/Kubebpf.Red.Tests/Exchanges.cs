using System.Net;
using Kubebpf.Http;
using Kubebpf.Red.Aggregation;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;
using Microsoft.Extensions.Options;

namespace Kubebpf.Red.Tests;

/// <summary>Exchanges of HTTP and of a made-up Redis-like protocol, and aggregators, with readable defaults.</summary>
internal static class Exchanges
{
    public const long WindowStartUnixNs = 1_700_000_000_000_000_000;
    public const long TenSecondsNs = 10_000_000_000;

    /// <summary>The HTTP plugin's own descriptor.</summary>
    public static readonly ProtocolDescriptor HttpProtocol = HttpProtocolDescriptor.Instance;

    /// <summary>A protocol with the descriptor's default names, no normaliser and one detail field.</summary>
    public static readonly ProtocolDescriptor RedisProtocol = new("redis")
    {
        DetailFields = [new("db", FieldKind.Integer, "", "Database index.")],
    };

    /// <summary>A protocol whose R.E.D. series are split by status, as DNS splits them by response code.</summary>
    public static readonly ProtocolDescriptor LookupProtocol = new("lookup") { StatusTag = "rcode", RedGroupsByStatus = true };

    public static readonly WorkloadIdentity Cart = new("shop", "cart-7d9f-x2b4q", "Deployment", "cart", "cart-svc", "node-1");
    public static readonly WorkloadIdentity CartReplica = new("shop", "cart-7d9f-p8w2z", "Deployment", "cart", "cart-svc", "node-1");
    public static readonly WorkloadIdentity Payments = new("shop", "payments-0", "StatefulSet", "payments", "", "node-2");

    public static readonly NetworkEndpoint Client = NetworkEndpoint.From(IPAddress.Parse("10.1.0.5"), 51000);
    public static readonly NetworkEndpoint Server = NetworkEndpoint.From(IPAddress.Parse("10.1.0.2"), 8080);

    /// <summary>An HTTP exchange as the HTTP parser publishes it.</summary>
    public static Exchange Make(
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
        long startUnixNs = WindowStartUnixNs + 1) =>
        Any(HttpProtocol, method, path, status, HttpStatusClass(status), HttpOutcome(status)) with
        {
            DurationNs = durationNs,
            Direction = direction,
            Workload = unknownWorkload ? null : workload ?? Cart,
            Peer = peer,
            Details = new HttpDetails("HTTP/1.1", host, query),
            RequestBytes = requestBytes,
            ResponseBytes = responseBytes,
            StartUnixNs = startUnixNs,
        };

    /// <summary>An exchange of the made-up Redis-like protocol: no code, sizes unknown, the database as detail.</summary>
    public static Exchange MakeRedis(
        string command = "GET",
        string key = "user:1",
        ExchangeOutcome outcome = ExchangeOutcome.Success,
        long durationNs = 200_000,
        WorkloadIdentity? workload = null,
        TrafficDirection direction = TrafficDirection.Out) =>
        Any(RedisProtocol, command, key, -1, outcome == ExchangeOutcome.Success ? "ok" : "error", outcome) with
        {
            DurationNs = durationNs,
            Direction = direction,
            Workload = workload ?? Cart,
            Details = new RedisDetails(0),
        };

    /// <summary>An exchange of <paramref name="protocol"/> between <see cref="Client"/> and <see cref="Server"/>, seen on the server's side.</summary>
    public static Exchange Any(ProtocolDescriptor protocol, string operation, string resource, int code, string status, ExchangeOutcome outcome) => new()
    {
        Protocol = protocol,
        Operation = operation,
        Resource = resource,
        Code = code,
        Status = status,
        Outcome = outcome,
        StartUnixNs = WindowStartUnixNs + 1,
        DurationNs = 1_000_000,
        RequestBytes = -1,
        ResponseBytes = -1,
        Transport = Transport.Tcp,
        Client = Client,
        Server = Server,
        Direction = TrafficDirection.In,
        Interface = "veth1",
        Workload = Cart,
    };

    public static RedAggregator Aggregator(TestAgentMetrics? metrics = null, int maxRoutesPerWorkload = 100, int maxSeries = 10_000) =>
        new(
            Options.Create(new RedOptions { MaxRoutesPerWorkload = maxRoutesPerWorkload, MaxSeries = maxSeries }),
            metrics ?? new TestAgentMetrics(),
            new FixedTimeProvider(WindowStartUnixNs));

    public static void Feed(this IEventSubscriber<Exchange> subscriber, params Exchange[] exchanges) =>
        subscriber.OnEvents(exchanges);

    private static string HttpStatusClass(int status) => status switch
    {
        >= 100 and <= 199 => "1xx",
        >= 200 and <= 299 => "2xx",
        >= 300 and <= 399 => "3xx",
        >= 400 and <= 499 => "4xx",
        >= 500 and <= 599 => "5xx",
        _ => "other",
    };

    private static ExchangeOutcome HttpOutcome(int status) => status switch
    {
        >= 400 and <= 499 => ExchangeOutcome.ClientError,
        >= 500 and <= 599 => ExchangeOutcome.Error,
        _ => ExchangeOutcome.Success,
    };
}

/// <summary>The made-up protocol's details: the database index.</summary>
internal sealed record RedisDetails(int Db) : IExchangeDetails
{
    public int FieldCount => 1;

    public void WriteFields(Span<Field> destination) => destination[0] = new("db", FieldValue.Integer(Db));
}

/// <summary>One learned name for some addresses, whatever the port.</summary>
internal sealed class FixedPeerNames(string name, params NetworkEndpoint[] addresses) : IPeerNameResolver
{
    public string? ResolveName(in NetworkEndpoint endpoint)
    {
        var address = endpoint.WithPort(0);
        return addresses.Any(a => a.WithPort(0).Equals(address)) ? name : null;
    }
}

/// <summary>A clock standing still at one instant.</summary>
internal sealed class FixedTimeProvider(long unixNs) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddTicks(unixNs / TimeSpan.NanosecondsPerTick);
}
