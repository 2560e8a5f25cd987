using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Red.Contract;

/// <summary>What the R.E.D. plugin writes; the README's tables mirror this and a test holds emitted points to it.</summary>
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
        new("method", "Request method; non-standard methods are \"OTHER\"."),
    ];

    /// <summary>The call log: one point per exchange.</summary>
    public static MeasurementContract CallLog { get; } = new(
        "http_requests",
        "One HTTP exchange, timestamped with the first byte of its request.",
        [
            .. WorkloadTags,
            new("status_class", "1xx, 2xx, 3xx, 4xx, 5xx, or \"other\" for codes outside 100-599."),
            new("peer_namespace", "Namespace of the other side, when it resolves."),
            new("peer_pod", "Pod of the other side, when it resolves to a pod."),
            new("peer_workload", "Workload of the other side, when it resolves."),
            new("peer_service", "Service of the other side, when it resolves."),
        ],
        [
            new("path", FieldKind.String, "", "Request path as sent, without the query string."),
            new("status", FieldKind.Integer, "", "Response status code."),
            new("duration_ns", FieldKind.Integer, "ns", "First request byte to first response byte."),
            new("request_bytes", FieldKind.Integer, "bytes", "Request body length; omitted when unknown.", Required: false),
            new("response_bytes", FieldKind.Integer, "bytes", "Response body length; omitted when unknown.", Required: false),
            new("client", FieldKind.String, "", "Client endpoint, ip:port ([ip]:port for IPv6)."),
            new("server", FieldKind.String, "", "Server endpoint, ip:port ([ip]:port for IPv6)."),
            new("peer_ip", FieldKind.String, "", "Address of the other side."),
            new("host", FieldKind.String, "", "Host header; omitted when absent.", Required: false),
            new("query", FieldKind.String, "", "Query string without '?'; only with CallLog:RecordQueryStrings.", Required: false),
            new("version", FieldKind.String, "", "HTTP version of the request, e.g. HTTP/1.1."),
        ]);

    /// <summary>Rate, errors and duration per flush window.</summary>
    public static MeasurementContract Red { get; } = new(
        "http_red",
        "Requests of one series in one flush window, timestamped with the window's end. Route-level series carry "
        + "their method and route; one roll-up per workload and direction carries method=\"*\" and route=\"*\".",
        [
            .. WorkloadTags,
            new("route", "Normalised path (ids replaced by placeholders, capped per workload), or \"*\" for the roll-up."),
        ],
        [
            new("requests", FieldKind.Integer, "", "Exchanges completed in the window."),
            new("rate", FieldKind.Float, "1/s", "requests / window_s."),
            new("errors_4xx", FieldKind.Integer, "", "Exchanges answered with 400-499."),
            new("errors_5xx", FieldKind.Integer, "", "Exchanges answered with 500-599."),
            new("error_rate", FieldKind.Float, "ratio", "errors_5xx / requests, 0 to 1."),
            new("client_error_rate", FieldKind.Float, "ratio", "errors_4xx / requests, 0 to 1."),
            new("latency_p50_ms", FieldKind.Float, "ms", "Median duration (within 0.79 %)."),
            new("latency_p90_ms", FieldKind.Float, "ms", "90th percentile duration (within 0.79 %)."),
            new("latency_p99_ms", FieldKind.Float, "ms", "99th percentile duration (within 0.79 %)."),
            new("latency_max_ms", FieldKind.Float, "ms", "Longest duration (exact)."),
            new("latency_mean_ms", FieldKind.Float, "ms", "Mean duration (exact)."),
            new("window_s", FieldKind.Float, "s", "Length of the window."),
        ]);

    /// <summary>Every measurement the plugin writes.</summary>
    public static IReadOnlyList<MeasurementContract> Measurements { get; } = [CallLog, Red];
}
