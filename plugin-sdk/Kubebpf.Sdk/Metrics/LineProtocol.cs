using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Kubebpf.Sdk.Metrics;

/// <summary>
/// Writes <see cref="MetricPoint"/>s as InfluxDB line protocol (<c>measurement,tag=v field=1i 1700000000000000000\n</c>),
/// UTF-8, straight into an <see cref="IBufferWriter{T}"/>: no allocation besides what the buffer itself does.
/// </summary>
/// <remarks>
/// <para>Escaping, as InfluxDB's parser (1.x and 2.x) reads it:</para>
/// <list type="bullet">
/// <item>measurement: comma and space are escaped with a backslash;</item>
/// <item>tag keys, tag values and field keys: comma, equals sign and space;</item>
/// <item>string field values: double quote and backslash; newlines stay as they are (inside quotes the server reads them as text);</item>
/// <item>line protocol has no escape for CR, LF or TAB in names, tags or field keys: they are written as the two characters
/// <c>\r</c>, <c>\n</c>, <c>\t</c> (as Telegraf does) and stored that way;</item>
/// <item>backslashes in names are written as they are: InfluxDB treats a character as escaped when a backslash precedes it,
/// so <c>a\,b</c> (written <c>a\\,b</c>) round-trips; only a trailing backslash has no form (it would escape the separator),
/// so trailing backslashes are trimmed, and a tag value or field key left empty is treated as empty.</item>
/// </list>
/// <para>
/// Tags are written sorted by key (ordinal), which is the order InfluxDB stores them in and makes its writes cheaper.
/// Tags with an empty key or value are left out (InfluxDB rejects them). The measurement is written as given: a measurement
/// starting with <c>#</c> would make the line a comment, so producers must not use one. Floats are written in shortest round-trip form;
/// NaN and infinities have no line-protocol form, so such fields are left out and counted in <see cref="LineProtocolStats"/>,
/// as are fields with an empty key; a point left with no field is left out entirely. The timestamp is always written, in nanoseconds.
/// </para>
/// <para>Thread-safe: the class holds no state.</para>
/// </remarks>
public static class LineProtocol
{
    private const int MaxNumberBytes = 32;
    private const int MaxTimestampBytes = 20;
    private const int StackSortLimit = 64;

    private static readonly SearchValues<char> MeasurementSpecials = SearchValues.Create(", \n\r\t");
    private static readonly SearchValues<char> KeySpecials = SearchValues.Create(",= \n\r\t");
    private static readonly SearchValues<char> StringFieldSpecials = SearchValues.Create("\"\\");

    /// <summary>Writes one point as one line (with its trailing newline), unless it has no writable field.</summary>
    /// <param name="point">The point.</param>
    /// <param name="output">Where the UTF-8 bytes go.</param>
    /// <param name="options">Formatting options; <see cref="LineProtocolOptions.Default"/> when null.</param>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The overloads differ in their first parameter's type, so no call is ambiguous.")]
    public static LineProtocolStats Write(MetricPoint point, IBufferWriter<byte> output, LineProtocolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(point);
        ArgumentNullException.ThrowIfNull(output);
        options ??= LineProtocolOptions.Default;

        var skippedFields = CountUnwritableFields(point);
        if (skippedFields == point.Fields.Count || Trim(point.Measurement).IsEmpty)
        {
            return new LineProtocolStats(0, 1, skippedFields);
        }

        var span = output.GetSpan(MaxLength(point));
        var length = WriteLine(point, span, options);
        output.Advance(length);
        return new LineProtocolStats(1, 0, skippedFields);
    }

    /// <summary>Writes a batch of points, one line each, in order.</summary>
    /// <param name="points">The points.</param>
    /// <param name="output">Where the UTF-8 bytes go.</param>
    /// <param name="options">Formatting options; <see cref="LineProtocolOptions.Default"/> when null.</param>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The overloads differ in their first parameter's type, so no call is ambiguous.")]
    public static LineProtocolStats Write(IReadOnlyList<MetricPoint> points, IBufferWriter<byte> output, LineProtocolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(points);
        var stats = default(LineProtocolStats);
        for (var i = 0; i < points.Count; i++)
        {
            stats += Write(points[i], output, options);
        }

        return stats;
    }

    /// <summary>The point as one line of text without the trailing newline (empty when it has no writable field); for logs and tests.</summary>
    /// <param name="point">The point.</param>
    /// <param name="options">Formatting options; <see cref="LineProtocolOptions.Default"/> when null.</param>
    public static string Format(MetricPoint point, LineProtocolOptions? options = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(point, buffer, options);
        return Encoding.UTF8.GetString(buffer.WrittenSpan).TrimEnd('\n');
    }

    private static bool IsWritable(in Field field) =>
        !Trim(field.Key).IsEmpty && (field.Value.Kind != FieldKind.Float || double.IsFinite(field.Value.AsDouble));

    // A trailing backslash would escape the separator after it, and line protocol has no other form for it.
    private static ReadOnlySpan<char> Trim(string name) => name.AsSpan().TrimEnd('\\');

    private static int CountUnwritableFields(MetricPoint point)
    {
        var count = 0;
        var fields = point.Fields;
        for (var i = 0; i < fields.Count; i++)
        {
            if (!IsWritable(fields[i]))
            {
                count++;
            }
        }

        return count;
    }

    // Upper bound of the encoded size: a UTF-16 char is at most 3 UTF-8 bytes, and an escaped ASCII char is 2.
    private static int MaxLength(MetricPoint point)
    {
        var length = point.Measurement.Length * 3 + 1;
        var tags = point.Tags;
        for (var i = 0; i < tags.Count; i++)
        {
            length += (tags[i].Key.Length + tags[i].Value.Length) * 3 + 2;
        }

        var fields = point.Fields;
        for (var i = 0; i < fields.Count; i++)
        {
            var value = fields[i].Value;
            length += fields[i].Key.Length * 3 + 2 + (value.Kind == FieldKind.String ? value.AsString.Length * 3 + 2 : MaxNumberBytes);
        }

        return length + 1 + MaxTimestampBytes + 1;
    }

    private static int WriteLine(MetricPoint point, Span<byte> span, LineProtocolOptions options)
    {
        var pos = WriteName(point.Measurement, span, MeasurementSpecials);
        pos += WriteTags(point.Tags, span[pos..]);

        var separator = (byte)' ';
        var fields = point.Fields;
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            if (!IsWritable(field))
            {
                continue;
            }

            span[pos++] = separator;
            separator = (byte)',';
            pos += WriteName(field.Key, span[pos..], KeySpecials);
            span[pos++] = (byte)'=';
            pos += WriteValue(field.Value, span[pos..], options);
        }

        span[pos++] = (byte)' ';
        pos += Format(point.TimestampUnixNs, span[pos..]);
        span[pos++] = (byte)'\n';
        return pos;
    }

    private static int WriteTags(IReadOnlyList<Tag> tags, Span<byte> span)
    {
        if (tags.Count == 0)
        {
            return 0;
        }

        int[]? rented = null;
        var order = tags.Count <= StackSortLimit ? stackalloc int[tags.Count] : (rented = ArrayPool<int>.Shared.Rent(tags.Count)).AsSpan(0, tags.Count);
        try
        {
            SortByKey(tags, order);
            var pos = 0;
            foreach (var index in order)
            {
                var tag = tags[index];
                if (Trim(tag.Key).IsEmpty || Trim(tag.Value).IsEmpty)
                {
                    continue;
                }

                span[pos++] = (byte)',';
                pos += WriteName(tag.Key, span[pos..], KeySpecials);
                span[pos++] = (byte)'=';
                pos += WriteName(tag.Value, span[pos..], KeySpecials);
            }

            return pos;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    // Insertion sort of indices: tag lists are short and usually already sorted, where this is one pass.
    private static void SortByKey(IReadOnlyList<Tag> tags, Span<int> order)
    {
        for (var i = 0; i < order.Length; i++)
        {
            var key = tags[i].Key;
            var j = i - 1;
            while (j >= 0 && string.CompareOrdinal(tags[order[j]].Key, key) > 0)
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = i;
        }
    }

    private static int WriteName(string name, Span<byte> span, SearchValues<char> specials)
    {
        var text = Trim(name);
        var pos = 0;
        while (true)
        {
            var next = text.IndexOfAny(specials);
            if (next < 0)
            {
                return pos + Encoding.UTF8.GetBytes(text, span[pos..]);
            }

            pos += Encoding.UTF8.GetBytes(text[..next], span[pos..]);
            span[pos++] = (byte)'\\';
            span[pos++] = text[next] switch
            {
                '\n' => (byte)'n',
                '\r' => (byte)'r',
                '\t' => (byte)'t',
                var c => (byte)c,
            };
            text = text[(next + 1)..];
        }
    }

    private static int WriteValue(FieldValue value, Span<byte> span, LineProtocolOptions options)
    {
        switch (value.Kind)
        {
            case FieldKind.Float:
                value.AsDouble.TryFormat(span, out var written, "R", CultureInfo.InvariantCulture);
                return written;
            case FieldKind.Integer:
                written = Format(value.AsLong, span);
                span[written] = (byte)'i';
                return written + 1;
            case FieldKind.UInteger when options.UnsignedAsInteger:
                written = Format((long)Math.Min(value.AsULong, long.MaxValue), span);
                span[written] = (byte)'i';
                return written + 1;
            case FieldKind.UInteger:
                value.AsULong.TryFormat(span, out written, default, CultureInfo.InvariantCulture);
                span[written] = (byte)'u';
                return written + 1;
            case FieldKind.Boolean:
                return Encoding.UTF8.GetBytes(value.AsBool ? "true" : "false", span);
            default:
                return WriteString(value.AsString, span);
        }
    }

    private static int WriteString(ReadOnlySpan<char> text, Span<byte> span)
    {
        var pos = 0;
        span[pos++] = (byte)'"';
        while (true)
        {
            var next = text.IndexOfAny(StringFieldSpecials);
            if (next < 0)
            {
                pos += Encoding.UTF8.GetBytes(text, span[pos..]);
                break;
            }

            pos += Encoding.UTF8.GetBytes(text[..next], span[pos..]);
            span[pos++] = (byte)'\\';
            span[pos++] = (byte)text[next];
            text = text[(next + 1)..];
        }

        span[pos++] = (byte)'"';
        return pos;
    }

    private static int Format(long value, Span<byte> span)
    {
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        return written;
    }
}
