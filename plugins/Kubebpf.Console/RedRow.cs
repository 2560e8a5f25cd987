using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Console;

/// <summary>One series of one R.E.D. window, of any protocol, reduced to what the table shows.</summary>
internal sealed record RedRow(
    string Protocol,
    string Workload,
    string Direction,
    string Operation,
    string Resource,
    long Requests,
    double Rate,
    long ClientErrors,
    long Errors,
    double P50Ms,
    double P90Ms,
    double P99Ms)
{
    /// <summary>The R.E.D. plugin's roll-up per workload, direction and protocol carries operation and resource <c>*</c>.</summary>
    public bool IsRollup => Operation == "*" && Resource == "*";

    public double ClientErrorPercent => Requests == 0 ? 0 : 100.0 * ClientErrors / Requests;

    public double ErrorPercent => Requests == 0 ? 0 : 100.0 * Errors / Requests;

    /// <summary>
    /// The row of a <c>&lt;protocol&gt;_red</c> point. The error counts come from the rates, whose names every protocol
    /// shares (the count fields are named by the protocol: <c>errors_5xx</c>, <c>errors</c>). A series split by status
    /// shows it after its resource (<c>example.org NXDOMAIN</c>), so that its rows tell apart.
    /// </summary>
    public static RedRow From(MetricPoint point)
    {
        var (operation, resource) = PointShapes.ProtocolTags(point);
        if (PointShapes.ThirdProtocolTag(point) is { Length: > 0 } status && status != "*")
        {
            resource = $"{resource} {status}";
        }

        var requests = Long(point, "requests");
        return new(
            PointShapes.Protocol(point.Measurement, PointShapes.RedSuffix),
            PointShapes.WorkloadLabel(point),
            point.Tag("direction") ?? "",
            operation,
            resource,
            requests,
            Double(point, "rate"),
            (long)Math.Round(Double(point, "client_error_rate") * requests),
            (long)Math.Round(Double(point, "error_rate") * requests),
            Double(point, "latency_p50_ms"),
            Double(point, "latency_p90_ms"),
            Double(point, "latency_p99_ms"));
    }

    private static long Long(MetricPoint point, string field) => point.Field(field)?.AsLong ?? 0;

    private static double Double(MetricPoint point, string field) => point.Field(field)?.AsDouble ?? 0;
}
