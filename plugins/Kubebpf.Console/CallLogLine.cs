using System.Text;
using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Console;

/// <summary>One call-log point as a compact line: <c>time direction workload method path status duration [peer]</c>.</summary>
internal static class CallLogLine
{
    public static string Format(MetricPoint point, TimeZoneInfo zone)
    {
        var line = new StringBuilder(128)
            .Append(Figures.Time(point.TimestampUnixNs, zone, "HH:mm:ss.fff"))
            .Append(' ').Append((point.Tag("direction") ?? "").PadRight(3))
            .Append(' ').Append(RedRow.WorkloadLabel(point) is { Length: > 0 } workload ? workload : "?")
            .Append(' ').Append(point.Tag("method") ?? "?")
            .Append(' ').Append(point.Field("path")?.AsString ?? "?")
            .Append(' ').Append(point.Field("status")?.AsLong.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?")
            .Append(' ').Append(DurationMs(point) is { } ms ? Figures.Number(ms) + " ms" : "? ms");
        if (point.Tag("peer_workload") is { } peer)
        {
            var arrow = point.Tag("direction") == "out" ? "->" : "<-";
            line.Append(' ').Append(arrow).Append(' ')
                .Append(point.Tag("peer_namespace") is { } ns ? $"{ns}/{peer}" : peer);
        }

        return line.ToString();
    }

    private static double? DurationMs(MetricPoint point) =>
        point.Field("duration_ns") is { } ns ? ns.AsDouble / 1e6
        : point.Field("duration_ms") is { } ms ? ms.AsDouble
        : null;
}
