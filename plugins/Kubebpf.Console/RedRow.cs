using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Console;

/// <summary>One series of one R.E.D. window, reduced to what the table shows.</summary>
internal sealed record RedRow(
    string Workload,
    string Direction,
    string Method,
    string Route,
    long Requests,
    double Rate,
    long Errors4xx,
    long Errors5xx,
    double P50Ms,
    double P90Ms,
    double P99Ms)
{
    /// <summary>The R.E.D. plugin's per-workload roll-up carries method and route <c>*</c>.</summary>
    public bool IsRollup => Method == "*" && Route == "*";

    public double Percent4xx => Requests == 0 ? 0 : 100.0 * Errors4xx / Requests;

    public double Percent5xx => Requests == 0 ? 0 : 100.0 * Errors5xx / Requests;

    public static RedRow From(MetricPoint point) => new(
        WorkloadLabel(point),
        point.Tag("direction") ?? "",
        point.Tag("method") ?? "",
        point.Tag("route") ?? "",
        Long(point, "requests"),
        Double(point, "rate"),
        Long(point, "errors_4xx"),
        Long(point, "errors_5xx"),
        Double(point, "latency_p50_ms"),
        Double(point, "latency_p90_ms"),
        Double(point, "latency_p99_ms"));

    /// <summary><c>namespace/workload/pod</c>, leaving out what the point does not carry.</summary>
    public static string WorkloadLabel(MetricPoint point) =>
        string.Join('/', new[] { point.Tag("namespace"), point.Tag("workload"), point.Tag("pod") }.Where(p => !string.IsNullOrEmpty(p)));

    private static long Long(MetricPoint point, string field) => point.Field(field)?.AsLong ?? 0;

    private static double Double(MetricPoint point, string field) => point.Field(field)?.AsDouble ?? 0;
}
