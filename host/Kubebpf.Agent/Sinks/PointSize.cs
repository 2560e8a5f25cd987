using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Agent.Sinks;

/// <summary>
/// What a buffered point retains in managed memory, estimated without walking the heap, in two parts. What the point
/// owns: the point, its field array and its string field values (a path, a statement: usually the point's own text; a
/// value shared with other points is counted for each, on the safe side). And its tag array with the tags' strings, which
/// producers share between the points of a series: <see cref="PointBuffer"/> counts each array once while it holds points
/// using it. The measurement name and the field keys are not counted: they are the producer's vocabulary (its declared
/// contract), held by the producer whether or not points are buffered.
/// </summary>
internal static class PointSize
{
    // MetricPoint: object header and method table, three references and a long.
    private const int PointBytes = 48;

    // An array's header, method table and length.
    private const int ArrayBytes = 24;

    // A Tag is two references; a Field is a reference and a FieldValue (kind, bits, text).
    private const int TagSlot = 16;
    private const int FieldSlot = 32;

    /// <summary>The point, its field array and its string field values.</summary>
    public static int Owned(MetricPoint point)
    {
        var fields = point.Fields;
        long bytes = PointBytes + ArrayBytes + ((long)FieldSlot * fields.Count);
        for (var i = 0; i < fields.Count; i++)
        {
            var value = fields[i].Value;
            if (value.Kind == FieldKind.String)
            {
                bytes += Text(value.AsString);
            }
        }

        return (int)Math.Min(bytes, int.MaxValue);
    }

    /// <summary>A tag array with its keys and values (a string used by several tags of the array is counted for each).</summary>
    public static int Tags(IReadOnlyList<Tag> tags)
    {
        long bytes = ArrayBytes + ((long)TagSlot * tags.Count);
        for (var i = 0; i < tags.Count; i++)
        {
            bytes += Text(tags[i].Key) + Text(tags[i].Value);
        }

        return (int)Math.Min(bytes, int.MaxValue);
    }

    // A string object: header, method table, length, the characters and a terminator, rounded up to 8 bytes.
    private static long Text(string? text) => text is null ? 0 : (20 + (2L * (text.Length + 1)) + 7) & ~7L;
}
