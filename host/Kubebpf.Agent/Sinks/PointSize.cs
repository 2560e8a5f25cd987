using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Agent.Sinks;

/// <summary>
/// What a buffered point costs in managed memory, estimated without walking the heap: the point and its two arrays, a
/// slot per tag and field, and every string's characters at two bytes each. Strings shared between points (cached tag
/// arrays, interned keys) are counted for each point, so the estimate errs on the safe side.
/// </summary>
internal static class PointSize
{
    // MetricPoint (object header, 3 references, a long) plus the Tag[] and Field[] array headers.
    private const int PointOverhead = 48 + (2 * 24);

    // A Tag is two references; a Field is a reference and a FieldValue (kind, bits, text).
    private const int TagSlot = 16;
    private const int FieldSlot = 32;

    // A string's header, length and terminator around its characters, and the rounding to 8 bytes on average.
    private const int StringOverhead = 32;

    public static int Estimate(MetricPoint point)
    {
        long bytes = PointOverhead + Text(point.Measurement);
        var tags = point.Tags;
        for (var i = 0; i < tags.Count; i++)
        {
            bytes += TagSlot + Text(tags[i].Key) + Text(tags[i].Value);
        }

        var fields = point.Fields;
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            bytes += FieldSlot + Text(field.Key);
            if (field.Value.Kind == FieldKind.String)
            {
                bytes += Text(field.Value.AsString);
            }
        }

        return (int)Math.Min(bytes, int.MaxValue);
    }

    private static long Text(string? text) => text is null ? 0 : StringOverhead + 2L * text.Length;
}
