using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Red.Contract;

/// <summary>The two measurements the R.E.D. plugin writes for one protocol.</summary>
/// <param name="CallLog"><c>&lt;protocol&gt;_requests</c>: one point per kept exchange, weighted.</param>
/// <param name="Red"><c>&lt;protocol&gt;_red</c>: rate, errors and duration per flush window.</param>
public sealed record ProtocolMeasurements(MeasurementContract CallLog, MeasurementContract Red)
{
    /// <summary>Both, call log first.</summary>
    public IReadOnlyList<MeasurementContract> All => [CallLog, Red];
}

/// <summary>
/// What the R.E.D. plugin writes for a protocol, with the names its <see cref="ProtocolDescriptor"/> gives; the
/// README's tables mirror HTTP's and a test holds emitted points to it.
/// </summary>
public static class RedOutputContract
{
    private static readonly TagContract[] WorkloadTags =
    [
        new("node", "Node the observed pod runs on."),
        new("namespace", "Namespace of the observed workload."),
        new("workload_kind", "Deployment, StatefulSet, DaemonSet, CronJob, Job, Pod or Host."),
        new("workload", "Owning workload's name; \"unknown\" when the endpoint does not resolve."),
        new("pod", "Observed pod."),
        new("service", "Service selecting the pod."),
        new("direction", "\"in\": the workload served the request; \"out\": it made it."),
    ];

    /// <summary>
    /// What <c>kubebpf plugins</c> lists: the plugin learns its protocols from the exchanges, not from its configuration,
    /// so it declares the pattern, <c>&lt;protocol&gt;_requests</c> and <c>&lt;protocol&gt;_red</c> with a descriptor's
    /// default tag and field names (a protocol may rename the operation, resource, status, code and error keys), the
    /// R.E.D. status tag included (written only for protocols that group R.E.D. by status).
    /// </summary>
    public static ProtocolMeasurements Pattern { get; } = Rename(For(new ProtocolDescriptor("protocol") { RedGroupsByStatus = true }), "<protocol>");

    /// <summary>The call log and R.E.D. measurements of <paramref name="protocol"/>.</summary>
    public static ProtocolMeasurements For(ProtocolDescriptor protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        return new(CallLog(protocol), Red(protocol));
    }

    private static MeasurementContract CallLog(ProtocolDescriptor protocol) => new(
        protocol.CallLogMeasurement,
        $"One {protocol.Name} exchange (every error and slow call, a weighted sample of the others), timestamped with the first byte of its request.",
        [
            .. WorkloadTags,
            new(protocol.OperationTag, "What was asked, in the protocol's canonical form (HTTP: the method, non-standard ones \"OTHER\")."),
            new(protocol.StatusTag, "Class of the answer (HTTP: 1xx to 5xx, or \"other\")."),
            new("peer_namespace", "Namespace of the other side, when it resolves."),
            new("peer_pod", "Pod of the other side, when it resolves to a pod."),
            new("peer_workload", "Workload of the other side, when it resolves."),
            new("peer_service", "Service of the other side, when it resolves."),
        ],
        [
            new(protocol.ResourceField, FieldKind.String, "", "What was asked of, as sent (HTTP: the path without the query string); omitted when empty.", Required: false),
            new(protocol.CodeField, FieldKind.Integer, "", "The protocol's numeric answer (HTTP: the status code); omitted when it has none.", Required: false),
            new("duration_ns", FieldKind.Integer, "ns", "First request byte to first answer byte, or to the timeout."),
            new("weight", FieldKind.Integer, "", "Exchanges this point stands for: 1 for an error, a slow call or an unsampled log; sum(weight) counts requests."),
            new("request_bytes", FieldKind.Integer, "bytes", "Request payload length; omitted when unknown.", Required: false),
            new("response_bytes", FieldKind.Integer, "bytes", "Answer payload length; omitted when unknown.", Required: false),
            new("client", FieldKind.String, "", "Client endpoint, ip:port ([ip]:port for IPv6)."),
            new("server", FieldKind.String, "", "Server endpoint, ip:port ([ip]:port for IPv6)."),
            new("peer_ip", FieldKind.String, "", "Address of the other side."),
            new("peer_name", FieldKind.String, "", "Name learned for the other side's address (a DNS answer), when no workload names it.", Required: false),
            .. protocol.DetailFields,
        ]);

    private static MeasurementContract Red(ProtocolDescriptor protocol) => new(
        protocol.RedMeasurement,
        $"{protocol.Name} requests of one series in one flush window, timestamped with the window's end. Resource-level "
        + $"series carry their {protocol.OperationTag} and {protocol.ResourceTag}"
        + (protocol.RedGroupsByStatus ? $" and {protocol.StatusTag}" : "")
        + $"; one roll-up per workload pod and direction, over all of them, carries {protocol.OperationTag}=\"*\" and "
        + $"{protocol.ResourceTag}=\"*\"" + (protocol.RedGroupsByStatus ? $" and {protocol.StatusTag}=\"*\"." : "."),
        [
            .. WorkloadTags,
            new(protocol.OperationTag, "What was asked, in the protocol's canonical form, or \"*\" for the roll-up."),
            new(protocol.ResourceTag, "Normalised resource (HTTP: the route, ids replaced by placeholders), capped per workload, or \"*\" for the roll-up."),
            .. protocol.RedGroupsByStatus
                ? [new TagContract(protocol.StatusTag, "Class of the answer (DNS: the response code), or \"*\" for the roll-up; only protocols that group R.E.D. by status write it.")]
                : Array.Empty<TagContract>(),
        ],
        [
            new("requests", FieldKind.Integer, "", "Exchanges completed in the window."),
            new("rate", FieldKind.Float, "1/s", "requests / window_s."),
            new(protocol.ClientErrorsField, FieldKind.Integer, "", "Exchanges refused as the client's fault (HTTP: 400-499)."),
            new(protocol.ErrorsField, FieldKind.Integer, "", "Exchanges that failed (HTTP: 500-599) or timed out."),
            new("error_rate", FieldKind.Float, "ratio", $"{protocol.ErrorsField} / requests, 0 to 1."),
            new("client_error_rate", FieldKind.Float, "ratio", $"{protocol.ClientErrorsField} / requests, 0 to 1."),
            new("timeouts", FieldKind.Integer, "", $"Exchanges that went unanswered within the protocol's timeout (also in {protocol.ErrorsField})."),
            new("latency_p50_ms", FieldKind.Float, "ms", "Median duration (within 0.79 %)."),
            new("latency_p90_ms", FieldKind.Float, "ms", "90th percentile duration (within 0.79 %)."),
            new("latency_p99_ms", FieldKind.Float, "ms", "99th percentile duration (within 0.79 %)."),
            new("latency_max_ms", FieldKind.Float, "ms", "Longest duration (exact)."),
            new("latency_mean_ms", FieldKind.Float, "ms", "Mean duration (exact)."),
            new("window_s", FieldKind.Float, "s", "Length of the window."),
        ]);

    private static ProtocolMeasurements Rename(ProtocolMeasurements measurements, string protocolName) => new(
        measurements.CallLog with { Name = protocolName + "_requests", Description = "One exchange of any protocol, timestamped with the first byte of its request." },
        measurements.Red with { Name = protocolName + "_red", Description = "Requests of one series of any protocol in one flush window, timestamped with the window's end." });
}
