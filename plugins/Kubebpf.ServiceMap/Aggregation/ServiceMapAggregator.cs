using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.ServiceMap.Naming;
using Kubebpf.ServiceMap.Output;

namespace Kubebpf.ServiceMap.Aggregation;

/// <summary>
/// Counts calls (<see cref="Exchange"/>) and connections (<see cref="TcpConnectionReport"/>) per edge, once each
/// (<see cref="EdgeResolver"/> says which side owns an edge), and writes each window's deltas at flush: per edge and
/// layer, per graph edge, and per map node. Edges, and ports per pair of nodes, are bounded; what does not fit is
/// counted. One lock guards everything; event batches take it once per batch.
/// </summary>
internal sealed class ServiceMapAggregator : IEventSubscriber<Exchange>, IEventSubscriber<TcpConnectionReport>, IFlushable
{
    private const double NsPerMs = 1e6;
    private const double NoTrafficWeight = 1e-6;
    private const string OtherPorts = "other";

    private readonly Lock _gate = new();
    private readonly EdgeResolver _edges;
    private readonly MapSnapshot _snapshot;
    private readonly string _nodeName;
    private readonly int _maxEdges;
    private readonly int _maxPortsPerPeer;
    private readonly Dictionary<EdgeKey, CallStats> _calls = [];
    private readonly Dictionary<EdgeKey, ConnectionStats> _connections = [];
    private readonly Dictionary<PairKey, HashSet<ushort>> _ports = [];
    private readonly Counter _edgesOverflow;
    private readonly Counter _portsCollapsed;
    private readonly Counter _leftToClient;
    private int _edgesHeld;

    public ServiceMapAggregator(ServiceMapOptions options, EdgeResolver edges, MapSnapshot snapshot, IAgentMetrics metrics)
    {
        _edges = edges;
        _snapshot = snapshot;
        _nodeName = options.NodeName;
        _maxEdges = options.MaxEdges;
        _maxPortsPerPeer = options.MaxPortsPerPeer;
        _edgesOverflow = metrics.Counter("edges_overflow", "a call or connection left out because MaxEdges edges of its layer were held in the window (a loss)");
        _portsCollapsed = metrics.Counter("ports_collapsed", "a call or connection counted under port \"other\" because its two nodes already had MaxPortsPerPeer ports in the window (not a loss: a port scan)");
        _leftToClient = metrics.Counter("left_to_client_side", "calls and connection reports seen on the server's side of a client some agent observes, counted there (not a loss)");
        metrics.Gauge("edges", "edges held now, both layers", () => Volatile.Read(ref _edgesHeld));
    }

    public void OnEvents(ReadOnlySpan<Exchange> batch)
    {
        long overflow = 0;
        long collapsed = 0;
        long left = 0;
        lock (_gate)
        {
            foreach (ref readonly var exchange in batch)
            {
                if (!_edges.TryResolve(exchange.Transport, exchange.Direction, exchange.Workload, exchange.Peer, exchange.Client, exchange.Server, out var ends))
                {
                    left++;
                    continue;
                }

                var key = Key(ends, exchange.Protocol?.Name ?? "", ref collapsed);
                if (Stats(_calls, key, ref overflow) is { } stats)
                {
                    stats.Record(exchange.Outcome, exchange.DurationNs);
                }
            }

            Volatile.Write(ref _edgesHeld, _calls.Count + _connections.Count);
        }

        Count(overflow, collapsed, left);
    }

    public void OnEvents(ReadOnlySpan<TcpConnectionReport> batch)
    {
        long overflow = 0;
        long collapsed = 0;
        long left = 0;
        lock (_gate)
        {
            foreach (ref readonly var report in batch)
            {
                if (!_edges.TryResolve(Transport.Tcp, report.Direction, report.Workload, report.Peer, report.Client, report.Server, out var ends))
                {
                    left++;
                    continue;
                }

                var key = Key(ends, "", ref collapsed);
                if (Stats(_connections, key, ref overflow) is { } stats)
                {
                    stats.Record(report);
                }
            }

            Volatile.Write(ref _edgesHeld, _calls.Count + _connections.Count);
        }

        Count(overflow, collapsed, left);
    }

    public void Flush(long windowEndUnixNs, IPointWriter output)
    {
        var points = new List<MetricPoint>();
        var pairs = new Dictionary<PairKey, PairTotals>();
        lock (_gate)
        {
            foreach (var (key, stats) in _calls)
            {
                points.Add(CallPoint(key, stats, windowEndUnixNs));
                Totals(pairs, key.Pair).Add(stats);
            }

            _calls.Clear();
            _ports.Clear();
            foreach (var (key, stats) in _connections)
            {
                if (stats.HasNews || stats.Active > 0)
                {
                    points.Add(ConnectionPoint(key, stats, windowEndUnixNs));
                    Totals(pairs, key.Pair).Add(stats);
                }

                stats.ResetWindow();
                if (stats.Active <= 0)
                {
                    _connections.Remove(key);
                }
                else if (key.Port != 0)
                {
                    PortsOf(key.Pair).Add(key.Port); // open connections keep their port's place
                }
            }

            Volatile.Write(ref _edgesHeld, _connections.Count);
        }

        AddGraphPoints(points, pairs, windowEndUnixNs);
        _snapshot.Add(pairs, windowEndUnixNs);
        if (points.Count > 0)
        {
            output.Write(points);
        }
    }

    private void Count(long overflow, long collapsed, long left)
    {
        if (overflow > 0)
        {
            _edgesOverflow.Add(overflow);
        }

        if (collapsed > 0)
        {
            _portsCollapsed.Add(collapsed);
        }

        if (left > 0)
        {
            _leftToClient.Add(left);
        }
    }

    private EdgeKey Key(in EdgeResolver.Ends ends, string protocol, ref long collapsed)
    {
        var pair = new PairKey(ends.Source, ends.Target);
        var port = ends.Port;
        var ports = PortsOf(pair);
        if (!ports.Contains(port))
        {
            if (ports.Count >= _maxPortsPerPeer)
            {
                collapsed++;
                port = 0;
            }
            else
            {
                ports.Add(port);
            }
        }

        return new EdgeKey(ends.Source, ends.Target, port, ends.Service, protocol);
    }

    private HashSet<ushort> PortsOf(PairKey pair)
    {
        if (!_ports.TryGetValue(pair, out var ports))
        {
            ports = [];
            _ports.Add(pair, ports);
        }

        return ports;
    }

    private T? Stats<T>(Dictionary<EdgeKey, T> edges, in EdgeKey key, ref long overflow)
        where T : class, new()
    {
        if (edges.TryGetValue(key, out var stats))
        {
            return stats;
        }

        if (edges.Count >= _maxEdges)
        {
            overflow++;
            return null;
        }

        stats = new T();
        edges.Add(key, stats);
        return stats;
    }

    private static PairTotals Totals(Dictionary<PairKey, PairTotals> pairs, PairKey pair)
    {
        if (!pairs.TryGetValue(pair, out var totals))
        {
            totals = new PairTotals();
            pairs.Add(pair, totals);
        }

        return totals;
    }

    private Tag[] EdgeTags(in EdgeKey key, bool withProtocol)
    {
        var tags = new List<Tag>(7)
        {
            new("node", _nodeName),
            new("edge", key.Pair.Id),
            new("source", key.Source.Id),
            new("target", key.Target.Id),
            new("port", key.Port == 0 ? OtherPorts : key.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        if (key.Service.Length > 0)
        {
            tags.Add(new("service", key.Service));
        }

        if (withProtocol && key.Protocol.Length > 0)
        {
            tags.Add(new("protocol", key.Protocol));
        }

        return [.. tags];
    }

    private MetricPoint CallPoint(in EdgeKey key, CallStats stats, long timestampUnixNs)
    {
        var fields = new List<Field>(9 + stats.Buckets.Length)
        {
            new("requests", FieldValue.Integer(stats.Requests)),
            new("errors", FieldValue.Integer(stats.Errors)),
            new("client_errors", FieldValue.Integer(stats.ClientErrors)),
            new("timeouts", FieldValue.Integer(stats.Timeouts)),
            new("duration_sum_ms", FieldValue.Float(stats.DurationSumNs / NsPerMs)),
            new("duration_max_ms", FieldValue.Float(stats.DurationMaxNs / NsPerMs)),
            new("latency_p50_ms", FieldValue.Float(stats.QuantileMs(0.50))),
            new("latency_p90_ms", FieldValue.Float(stats.QuantileMs(0.90))),
            new("latency_p99_ms", FieldValue.Float(stats.QuantileMs(0.99))),
        };
        for (var i = 0; i < stats.Buckets.Length; i++)
        {
            fields.Add(new(CallStats.BucketFields[i], FieldValue.Integer(stats.Buckets[i])));
        }

        return new MetricPoint(ServiceMapContract.Calls, EdgeTags(key, withProtocol: true), [.. fields], timestampUnixNs);
    }

    private MetricPoint ConnectionPoint(in EdgeKey key, ConnectionStats stats, long timestampUnixNs) => new(
        ServiceMapContract.Connections,
        EdgeTags(key, withProtocol: false),
        [
            new("connects", FieldValue.Integer(stats.Connects)),
            new("refused", FieldValue.Integer(stats.Refused)),
            new("timeouts", FieldValue.Integer(stats.TimedOut)),
            new("connect_time_sum_ms", FieldValue.Float(stats.ConnectTimeSumNs / NsPerMs)),
            new("connect_time_count", FieldValue.Integer(stats.ConnectTimeCount)),
            new("connect_time_max_ms", FieldValue.Float(stats.ConnectTimeMaxNs / NsPerMs)),
            new("bytes_sent", FieldValue.Integer(stats.BytesSent)),
            new("bytes_received", FieldValue.Integer(stats.BytesReceived)),
            new("retransmits", FieldValue.Integer(stats.Retransmissions)),
            new("active", FieldValue.Integer(stats.Active)),
        ],
        timestampUnixNs);

    /// <summary>One point per graph edge, and one per node at either end of one, so that every edge's ends are among the nodes.</summary>
    private void AddGraphPoints(List<MetricPoint> points, Dictionary<PairKey, PairTotals> pairs, long timestampUnixNs)
    {
        var nodes = new Dictionary<MapNode, NodeTotals>();
        foreach (var (pair, totals) in pairs)
        {
            points.Add(new MetricPoint(
                ServiceMapContract.Edges,
                [new("id", pair.Id), new("source", pair.Source.Id), new("target", pair.Target.Id), new("node", _nodeName)],
                [
                    new("requests", FieldValue.Integer(totals.Requests)),
                    new("errors", FieldValue.Integer(totals.Errors)),
                    new("duration_sum_ms", FieldValue.Float(totals.DurationSumNs / NsPerMs)),
                    new("connects", FieldValue.Integer(totals.Connects)),
                    new("failed_connects", FieldValue.Integer(totals.FailedConnects)),
                    new("bytes", FieldValue.Integer(totals.Bytes)),
                    new("retransmits", FieldValue.Integer(totals.Retransmissions)),
                    new("active", FieldValue.Integer(totals.Active)),
                ],
                timestampUnixNs));
            NodeOf(nodes, pair.Source).RequestsOut += totals.Requests;
            var target = NodeOf(nodes, pair.Target);
            target.RequestsIn += totals.Requests;
            target.ErrorsIn += totals.Errors;
            target.ConnectsIn += totals.Connects;
            target.FailedConnectsIn += totals.FailedConnects;
        }

        foreach (var (node, totals) in nodes)
        {
            var weight = totals.RequestsIn + totals.FailedConnectsIn;
            var ok = weight - totals.ErrorsIn - totals.FailedConnectsIn;
            points.Add(new MetricPoint(
                ServiceMapContract.Nodes,
                [new("id", node.Id), new("title", node.Title), new("subtitle", node.Subtitle), new("node", _nodeName)],
                [
                    new("requests_in", FieldValue.Integer(totals.RequestsIn)),
                    new("errors_in", FieldValue.Integer(totals.ErrorsIn)),
                    new("requests_out", FieldValue.Integer(totals.RequestsOut)),
                    new("connects_in", FieldValue.Integer(totals.ConnectsIn)),
                    new("failed_connects_in", FieldValue.Integer(totals.FailedConnectsIn)),
                    new("arc_weight", FieldValue.Float(weight == 0 ? NoTrafficWeight : weight)),
                    new("arc_ok_weight", FieldValue.Float(weight == 0 ? NoTrafficWeight : ok)),
                ],
                timestampUnixNs));
        }
    }

    private static NodeTotals NodeOf(Dictionary<MapNode, NodeTotals> nodes, MapNode node)
    {
        if (!nodes.TryGetValue(node, out var totals))
        {
            totals = new NodeTotals();
            nodes.Add(node, totals);
        }

        return totals;
    }

    private sealed class NodeTotals
    {
        public long RequestsIn;
        public long ErrorsIn;
        public long RequestsOut;
        public long ConnectsIn;
        public long FailedConnectsIn;
    }
}
