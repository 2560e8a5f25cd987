using BenchmarkDotNet.Attributes;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.ServiceMap;
using Kubebpf.ServiceMap.Aggregation;
using Kubebpf.ServiceMap.Naming;
using Kubebpf.ServiceMap.Services;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Benchmarks;

/// <summary>
/// Cost per event of the service map's aggregator, fed one drained batch at a time as the capture does: exchanges
/// (a third on the client's side, counted; the rest on the server's, most left to the client's side) and connection
/// reports. The edges exist after setup.
/// </summary>
[MemoryDiagnoser]
public class ServiceMapBenchmarks
{
    private const int BatchSize = 256;

    private Exchange[] _calls = [];
    private TcpConnectionReport[] _connections = [];
    private ServiceMapAggregator _aggregator = null!;

    [GlobalSetup]
    public void Setup()
    {
        _calls = SampleExchanges.Create(BatchSize);
        _connections = [.. _calls.Select(c => new TcpConnectionReport
        {
            Client = c.Client,
            Server = c.Server,
            Direction = c.Direction,
            Interface = c.Interface,
            Workload = c.Workload,
            Peer = c.Peer,
            ReportUnixNs = c.StartUnixNs,
            Opened = true,
            Closed = true,
            Connected = true,
            ConnectTimeNs = 50_000,
            ClientBytes = 300,
            ServerBytes = 2_000,
        })];
        var options = new ServiceMapOptions { NodeName = "node-1", SnapshotFile = "" };
        var edges = new EdgeResolver(new NodeNamer(options, null), new NoWorkloads(), new NoTranslation());
        _aggregator = new ServiceMapAggregator(options, edges, new MapSnapshot(options, NullLogger<MapSnapshot>.Instance), new RedBenchmarks.NullAgentMetrics());
        _aggregator.OnEvents(_calls);
        _aggregator.OnEvents(_connections);
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void AggregateCalls() => _aggregator.OnEvents(_calls);

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void AggregateConnections() => _aggregator.OnEvents(_connections);

    private sealed class NoWorkloads : IWorkloadResolver
    {
        public WorkloadIdentity? ResolveEndpoint(in NetworkEndpoint endpoint) => null;

        public WorkloadIdentity? ResolveInterface(string interfaceName) => null;
    }
}
