using System.Globalization;
using System.Text;
using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Console;

/// <summary>
/// One call-log point of any protocol as a compact line:
/// <c>time direction workload protocol operation resource status duration [peer]</c>.
/// </summary>
internal static class CallLogLine
{
    public static string Format(MetricPoint point, TimeZoneInfo zone)
    {
        var (operation, statusTag) = PointShapes.ProtocolTags(point);
        var (resource, code) = ResourceAndCode(point);
        var line = new StringBuilder(128)
            .Append(Figures.Time(point.TimestampUnixNs, zone, "HH:mm:ss.fff"))
            .Append(' ').Append((point.Tag("direction") ?? "").PadRight(3))
            .Append(' ').Append(PointShapes.WorkloadLabel(point) is { Length: > 0 } workload ? workload : "?")
            .Append(' ').Append(PointShapes.Protocol(point.Measurement, PointShapes.CallLogSuffix))
            .Append(' ').Append(operation is { Length: > 0 } ? operation : "?");
        if (resource is not null)
        {
            line.Append(' ').Append(resource);
        }

        line.Append(' ').Append(code?.ToString(CultureInfo.InvariantCulture) ?? (statusTag is { Length: > 0 } ? statusTag : "?"))
            .Append(' ').Append(point.Field("duration_ns") is { } durationNs ? Figures.Number(durationNs.AsDouble / 1e6) + " ms" : "? ms");
        if (point.Tag("peer_workload") is { } peer)
        {
            var arrow = point.Tag("direction") == "out" ? "->" : "<-";
            line.Append(' ').Append(arrow).Append(' ')
                .Append(point.Tag("peer_namespace") is { } ns ? $"{ns}/{peer}" : peer);
        }

        return line.ToString();
    }

    /// <summary>
    /// The R.E.D. plugin writes the protocol-named fields first: the resource as sent (a string, HTTP's <c>path</c>)
    /// and the numeric answer (an integer, HTTP's <c>status</c>), each only when the exchange has one, then <c>duration_ns</c>.
    /// </summary>
    private static (string? Resource, long? Code) ResourceAndCode(MetricPoint point)
    {
        string? resource = null;
        long? code = null;
        foreach (var field in point.Fields)
        {
            if (field.Key == "duration_ns")
            {
                break;
            }

            if (field.Value.Kind == FieldKind.String)
            {
                resource ??= field.Value.AsString;
            }
            else if (field.Value.Kind is FieldKind.Integer or FieldKind.UInteger)
            {
                code ??= field.Value.AsLong;
            }
        }

        return (resource, code);
    }
}
