using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Console;

/// <summary>
/// How the R.E.D. plugin's points are recognised without knowing their protocol: <c>&lt;protocol&gt;_red</c> and
/// <c>&lt;protocol&gt;_requests</c>, whose protocol-named tags (HTTP's <c>method</c> and <c>route</c>, another's
/// <c>operation</c> and <c>resource</c>) are the ones that are not workload, direction or peer tags, in the order
/// written: operation first.
/// </summary>
internal static class PointShapes
{
    public const string RedSuffix = "_red";
    public const string CallLogSuffix = "_requests";

    private static readonly HashSet<string> SharedTags = new(StringComparer.Ordinal)
    {
        "node", "namespace", "workload_kind", "workload", "pod", "service", "direction",
        "peer_namespace", "peer_pod", "peer_workload", "peer_service",
    };

    public static bool IsRed(string measurement) => HasProtocolPrefix(measurement, RedSuffix);

    public static bool IsCallLog(string measurement) => HasProtocolPrefix(measurement, CallLogSuffix);

    /// <summary>The protocol a measurement of the R.E.D. plugin is named after (<c>http</c> for <c>http_red</c>).</summary>
    public static string Protocol(string measurement, string suffix) => measurement[..^suffix.Length];

    /// <summary>The values of the first two protocol-named tags: the operation, then the resource (R.E.D.) or status (call log).</summary>
    public static (string First, string Second) ProtocolTags(MetricPoint point)
    {
        string? first = null;
        foreach (var tag in point.Tags)
        {
            if (SharedTags.Contains(tag.Key))
            {
                continue;
            }

            if (first is not null)
            {
                return (first, tag.Value);
            }

            first = tag.Value;
        }

        return (first ?? "", "");
    }

    /// <summary>
    /// The value of a third protocol-named tag: the status of a protocol whose R.E.D. series are split by it (DNS's
    /// <c>rcode</c>), or null.
    /// </summary>
    public static string? ThirdProtocolTag(MetricPoint point) =>
        point.Tags.Where(t => !SharedTags.Contains(t.Key)).Skip(2).Select(t => t.Value).FirstOrDefault();

    /// <summary><c>namespace/workload/pod</c>, leaving out what the point does not carry.</summary>
    public static string WorkloadLabel(MetricPoint point) =>
        string.Join('/', new[] { point.Tag("namespace"), point.Tag("workload"), point.Tag("pod") }.Where(p => !string.IsNullOrEmpty(p)));

    private static bool HasProtocolPrefix(string measurement, string suffix) =>
        measurement.Length > suffix.Length && measurement.EndsWith(suffix, StringComparison.Ordinal);
}
