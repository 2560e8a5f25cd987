using Kubebpf.Sdk.Metrics;
using Kubebpf.ServiceMap.Aggregation;

namespace Kubebpf.ServiceMap.Output;

/// <summary>
/// The four measurements of the map, each point a delta of one flush window, so that <c>sum()</c> over a time range
/// is that range's total (and, summed over the nodes' agents, the cluster's). The README's tables mirror these.
/// </summary>
internal static class ServiceMapContract
{
    public const string Calls = "service_map_calls";
    public const string Connections = "service_map_connections";
    public const string Edges = "service_map_edges";
    public const string Nodes = "service_map_nodes";

    private static readonly TagContract NodeTag = new("node", "The agent's node, which counted the point (the client's, unless no agent observes the client).");
    private static readonly TagContract[] EdgeTags =
    [
        NodeTag,
        new("edge", "The graph edge: \"<source>-><target>\"."),
        new("source", "The client's map node: \"namespace/workload\", \"host/<node>\", a learned name, or a network (\"external\")."),
        new("target", "The server's map node, named the same way; the backend behind a service address."),
        new("port", "The destination port (the backend's, behind a service address); \"other\" for ports beyond MaxPortsPerPeer."),
        new("service", "The service whose virtual address the client called; absent when it called the target directly."),
    ];

    public static MeasurementContract CallsContract { get; } = new(
        Calls,
        "The calls (L7 exchanges of every protocol) of one edge in one flush window.",
        [.. EdgeTags, new("protocol", "The protocol: http, dns, mysql, ...")],
        [
            new("requests", FieldKind.Integer, "", "Exchanges."),
            new("errors", FieldKind.Integer, "", "Exchanges that failed on the server's side (HTTP 5xx, error replies)."),
            new("client_errors", FieldKind.Integer, "", "Exchanges refused as the client's fault (HTTP 4xx)."),
            new("timeouts", FieldKind.Integer, "", "Requests without an answer within the protocol's timeout."),
            new("duration_sum_ms", FieldKind.Float, "ms", "Sum of the durations (request's first byte to answer's first byte): with requests, the mean."),
            new("duration_max_ms", FieldKind.Float, "ms", "The longest duration."),
            new("latency_p50_ms", FieldKind.Float, "ms", "Median duration in the window, estimated within its bucket."),
            new("latency_p90_ms", FieldKind.Float, "ms", "90th percentile duration in the window, estimated within its bucket."),
            new("latency_p99_ms", FieldKind.Float, "ms", "99th percentile duration in the window, estimated within its bucket."),
            .. CallStats.BucketFields.Select((name, i) => new FieldContract(
                name,
                FieldKind.Integer,
                "",
                i < CallStats.BucketBoundsMs.Length ? $"Exchanges that took more than the previous bound and at most {CallStats.BucketBoundsMs[i]} ms." : "Exchanges longer than the last bound.")),
        ]);

    public static MeasurementContract ConnectionsContract { get; } = new(
        Connections,
        "The TCP connections of one edge in one flush window, whatever their protocol.",
        EdgeTags,
        [
            new("connects", FieldKind.Integer, "", "Handshakes answered with a SYN-ACK."),
            new("refused", FieldKind.Integer, "", "SYNs answered with a RST (closed port)."),
            new("timeouts", FieldKind.Integer, "", "SYNs unanswered within the capture's HandshakeTimeout (dropped, no such host)."),
            new("connect_time_sum_ms", FieldKind.Float, "ms", "Sum of SYN-to-SYN-ACK times of the connects whose SYN was seen."),
            new("connect_time_count", FieldKind.Integer, "", "How many connect times the sum holds."),
            new("connect_time_max_ms", FieldKind.Float, "ms", "The longest connect time."),
            new("bytes_sent", FieldKind.Integer, "bytes", "TCP payload from source to target, retransmissions not counted."),
            new("bytes_received", FieldKind.Integer, "bytes", "TCP payload from target to source, retransmissions not counted."),
            new("retransmits", FieldKind.Integer, "", "Segments sent again, both ways."),
            new("active", FieldKind.Integer, "", "Connections open at the end of the window (a gauge: use last() or mean(), not sum())."),
        ]);

    public static MeasurementContract EdgesContract { get; } = new(
        Edges,
        "One graph edge (every port, service and protocol between two map nodes) in one flush window: the Node Graph panel's edges frame.",
        [new("id", "\"<source>-><target>\", unique in the cluster."), new("source", "The client's map node id."), new("target", "The server's map node id."), NodeTag],
        [
            new("requests", FieldKind.Integer, "", "Calls, all protocols."),
            new("errors", FieldKind.Integer, "", "Calls that failed on the server's side or timed out."),
            new("duration_sum_ms", FieldKind.Float, "ms", "Sum of call durations."),
            new("connects", FieldKind.Integer, "", "TCP connects."),
            new("failed_connects", FieldKind.Integer, "", "TCP connects refused or timed out."),
            new("bytes", FieldKind.Integer, "bytes", "TCP payload both ways."),
            new("retransmits", FieldKind.Integer, "", "TCP segments sent again."),
            new("active", FieldKind.Integer, "", "Connections open at the end of the window (a gauge)."),
        ]);

    public static MeasurementContract NodesContract { get; } = new(
        Nodes,
        "One map node that is an end of an edge this agent counted in one flush window: the Node Graph panel's nodes frame.",
        [new("id", "The map node id, as edges' source and target hold it."), new("title", "Its short name."), new("subtitle", "What it is: kind and namespace, host, dns or network."), NodeTag],
        [
            new("requests_in", FieldKind.Integer, "", "Calls it received."),
            new("errors_in", FieldKind.Integer, "", "Calls it received that failed or timed out."),
            new("requests_out", FieldKind.Integer, "", "Calls it made."),
            new("connects_in", FieldKind.Integer, "", "TCP connects it accepted."),
            new("failed_connects_in", FieldKind.Integer, "", "TCP connects to it refused or timed out."),
            new("arc_weight", FieldKind.Float, "", "Calls and failed connects it received, or 1e-6 when none: sum(arc_ok_weight)/sum(arc_weight) is its success ratio (1 when it received nothing)."),
            new("arc_ok_weight", FieldKind.Float, "", "The successful part of arc_weight."),
        ]);

    public static IReadOnlyList<MeasurementContract> All { get; } = [CallsContract, ConnectionsContract, EdgesContract, NodesContract];
}
