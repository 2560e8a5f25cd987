using System.Net;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Protocols;
using Kubebpf.ServiceMap.Aggregation;
using Kubebpf.ServiceMap.Naming;
using Kubebpf.ServiceMap.Services;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.ServiceMap.Tests;

/// <summary>Workloads, endpoints and the events the capture would publish about them, and an aggregator to feed.</summary>
internal static class Observations
{
    public static readonly ProtocolDescriptor Http = new("http");

    public static readonly WorkloadIdentity Client = new("shop", "client-1", "Deployment", "client", "", "node-a");
    public static readonly WorkloadIdentity Server = new("shop", "server-1", "Deployment", "server", "server-svc", "node-a");
    public static readonly WorkloadIdentity Node = new("", "node-a", "Host", "node-a", "", "node-a");

    public static readonly NetworkEndpoint ClientEndpoint = Endpoint("10.1.0.1", 40000);
    public static readonly NetworkEndpoint ServerEndpoint = Endpoint("10.1.0.2", 80);

    public static NetworkEndpoint Endpoint(string address, ushort port) => NetworkEndpoint.From(IPAddress.Parse(address), port);

    public static Exchange Call(
        TrafficDirection direction,
        ExchangeOutcome outcome = ExchangeOutcome.Success,
        WorkloadIdentity? client = null,
        WorkloadIdentity? server = null,
        NetworkEndpoint? clientEndpoint = null,
        NetworkEndpoint? serverEndpoint = null,
        long durationNs = 2_000_000)
    {
        var (workload, peer) = direction == TrafficDirection.Out ? (client, server) : (server, client);
        return new Exchange
        {
            Protocol = Http,
            Operation = "GET",
            Resource = "/",
            Code = outcome == ExchangeOutcome.Error ? 500 : 200,
            Status = outcome == ExchangeOutcome.Error ? "5xx" : "2xx",
            Outcome = outcome,
            StartUnixNs = 1,
            DurationNs = durationNs,
            Transport = Transport.Tcp,
            Client = clientEndpoint ?? ClientEndpoint,
            Server = serverEndpoint ?? ServerEndpoint,
            Direction = direction,
            Interface = "veth0",
            Workload = workload,
            Peer = peer,
        };
    }

    public static TcpConnectionReport Connection(
        TrafficDirection direction,
        WorkloadIdentity? client = null,
        WorkloadIdentity? server = null,
        NetworkEndpoint? serverEndpoint = null,
        bool opened = true,
        bool closed = true,
        bool connected = true,
        bool refused = false,
        bool timedOut = false,
        long clientBytes = 0,
        long serverBytes = 0)
    {
        var (workload, peer) = direction == TrafficDirection.Out ? (client, server) : (server, client);
        return new TcpConnectionReport
        {
            Client = ClientEndpoint,
            Server = serverEndpoint ?? ServerEndpoint,
            Direction = direction,
            Interface = "veth0",
            Workload = workload,
            Peer = peer,
            ReportUnixNs = 1,
            Opened = opened,
            Closed = closed,
            Connected = connected,
            Refused = refused,
            TimedOut = timedOut,
            ConnectTimeNs = connected ? 100_000 : 0,
            ClientBytes = clientBytes,
            ServerBytes = serverBytes,
        };
    }
}

/// <summary>An aggregator wired as the plugin wires it, with fakes for metadata, learned names and conntrack.</summary>
internal sealed class MapHarness
{
    public MapHarness(ServiceMapOptions? options = null, IPeerNameResolver? names = null, IServiceAddressTranslator? translator = null, IWorkloadResolver? resolver = null)
    {
        Options = options ?? new ServiceMapOptions { NodeName = "node-a", SnapshotFile = "" };
        var edges = new EdgeResolver(new NodeNamer(Options, names), resolver ?? new FakeResolver(), translator ?? new NoTranslation());
        Snapshot = new MapSnapshot(Options, NullLogger<MapSnapshot>.Instance);
        Aggregator = new ServiceMapAggregator(Options, edges, Snapshot, Metrics);
    }

    public ServiceMapOptions Options { get; }

    public TestAgentMetrics Metrics { get; } = new();

    public MapSnapshot Snapshot { get; }

    public ServiceMapAggregator Aggregator { get; }

    public CollectingPointWriter Output { get; } = new();

    public void Calls(params Exchange[] exchanges) => Aggregator.OnEvents(exchanges);

    public void Connections(params TcpConnectionReport[] reports) => Aggregator.OnEvents(reports);

    public void Flush(long windowEndUnixNs = 10_000_000_000) => Aggregator.Flush(windowEndUnixNs, Output);

    public long Sum(string measurement, string field, Func<Kubebpf.Sdk.Metrics.MetricPoint, bool>? where = null) =>
        Output.Measurement(measurement).Where(p => where?.Invoke(p) ?? true).Sum(p => p.Fields.Single(f => f.Key == field).Value.AsLong);
}

/// <summary>Answers endpoint lookups from a table.</summary>
internal sealed class FakeResolver(Dictionary<NetworkEndpoint, WorkloadIdentity>? byEndpoint = null) : IWorkloadResolver
{
    public WorkloadIdentity? ResolveEndpoint(in NetworkEndpoint endpoint) =>
        byEndpoint is not null && (byEndpoint.TryGetValue(endpoint, out var found) || byEndpoint.TryGetValue(endpoint.WithPort(0), out found)) ? found : null;

    public WorkloadIdentity? ResolveInterface(string interfaceName) => null;
}

/// <summary>A learned-name source such as the DNS plugin's.</summary>
internal sealed class FakePeerNames(Dictionary<NetworkEndpoint, string> names) : IPeerNameSource
{
    public string? ResolveName(in NetworkEndpoint endpoint) => names.GetValueOrDefault(endpoint.WithPort(0));
}

/// <summary>A conntrack table with fixed translations.</summary>
internal sealed class FakeTranslator(NetworkEndpoint virtualEndpoint, NetworkEndpoint backend) : IServiceAddressTranslator
{
    public bool TryTranslate(Transport transport, in NetworkEndpoint client, in NetworkEndpoint server, out NetworkEndpoint actual)
    {
        actual = server == virtualEndpoint ? backend : server;
        return server == virtualEndpoint;
    }
}
