using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
/// <para>Thread-safe: the class holds no state. A sink writing many points should use a <see cref="LineProtocolEncoder"/>,
/// which writes the same bytes and caches what repeats between points.</para>
/// </remarks>
public static class LineProtocol
{
    // Longest number with its suffix: a double in "R" form is at most 24 bytes (-1.7976931348623157E+308), a 64-bit integer 20.
    private const int MaxNumberBytes = 32;

    // The line's end: a space, the timestamp (at most 20 bytes) and the newline.
    private const int TrailerBytes = 1 + 20 + 1;
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

        var fields = point.FieldSpan;
        if (IsUnwritable(point.Measurement))
        {
            return Unwritable(fields);
        }

        var span = output.GetSpan(SeriesBound(point.Measurement, point.TagSpan) + FieldsBound(fields));
        var pos = WriteSeries(point.Measurement, point.TagSpan, span);
        return Commit(WriteFields(fields, point.TimestampUnixNs, span, pos, options, null, out var skipped), skipped, output);
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

    /// <summary>A measurement (or tag key or value) with no form in line protocol: empty once trailing backslashes are trimmed.</summary>
    internal static bool IsUnwritable(string name) => Trim(name).IsEmpty;

    /// <summary>What writing a point whose measurement has no form amounts to.</summary>
    internal static LineProtocolStats Unwritable(ReadOnlySpan<Field> fields)
    {
        var skipped = 0;
        foreach (ref readonly var field in fields)
        {
            if (!IsWritable(field))
            {
                skipped++;
            }
        }

        return new LineProtocolStats(0, 1, skipped);
    }

    /// <summary>Commits a line <see cref="WriteFields"/> wrote (none when it wrote no field) and says so.</summary>
    internal static LineProtocolStats Commit(int length, int skippedFields, IBufferWriter<byte> output)
    {
        if (length == 0)
        {
            return new LineProtocolStats(0, 1, skippedFields);
        }

        output.Advance(length);
        return new LineProtocolStats(1, 0, skippedFields);
    }

    /// <summary>Upper bound of the encoded series: a UTF-16 char is at most 3 UTF-8 bytes, and an escaped ASCII char is 2.</summary>
    internal static int SeriesBound(string measurement, ReadOnlySpan<Tag> tags)
    {
        var length = measurement.Length * 3;
        foreach (ref readonly var tag in tags)
        {
            length += (tag.Key.Length + tag.Value.Length) * 3 + 2;
        }

        return length;
    }

    /// <summary>Upper bound of what <see cref="WriteFields"/> writes, on the same terms as <see cref="SeriesBound"/>.</summary>
    internal static int FieldsBound(ReadOnlySpan<Field> fields)
    {
        var length = TrailerBytes;
        foreach (ref readonly var field in fields)
        {
            length += field.Key.Length * 3 + 2 + ValueBound(field.Value);
        }

        return length;
    }

    /// <summary>The measurement and the tags, sorted by key, without the ones that have no form (<c>measurement,k=v,k=v</c>).</summary>
    internal static int WriteSeries(string measurement, ReadOnlySpan<Tag> tags, Span<byte> span)
    {
        var pos = WriteName(measurement, span, MeasurementSpecials);
        if (tags.IsEmpty)
        {
            return pos;
        }

        int[]? rented = null;
        var order = tags.Length <= StackSortLimit ? stackalloc int[tags.Length] : (rented = ArrayPool<int>.Shared.Rent(tags.Length)).AsSpan(0, tags.Length);
        SortByKey(tags, order);
        foreach (var index in order)
        {
            ref readonly var tag = ref tags[index];
            if (IsUnwritable(tag.Key) || IsUnwritable(tag.Value))
            {
                continue;
            }

            span[pos++] = (byte)',';
            pos += WriteKey(tag.Key, span[pos..]);
            span[pos++] = (byte)'=';
            pos += WriteKey(tag.Value, span[pos..]);
        }

        if (rented is not null)
        {
            ArrayPool<int>.Shared.Return(rented);
        }

        return pos;
    }

    /// <summary>A tag key, tag value or field key, escaped.</summary>
    internal static int WriteKey(string name, Span<byte> span) => WriteName(name, span, KeySpecials);

    /// <summary>
    /// Writes the fields, the timestamp and the newline after the series in <c>span[..start]</c>. Returns the length of the line,
    /// 0 when no field could be written (nothing to commit), or -1 when <paramref name="span"/> may be too small: the caller
    /// writes again into a span of <see cref="FieldsBound"/> bytes after the series, where it always fits.
    /// Keys (with their equals sign) come from <paramref name="keys"/> when given; null escapes every key.
    /// </summary>
    internal static int WriteFields(
        ReadOnlySpan<Field> fields, long timestampUnixNs, Span<byte> span, int start, LineProtocolOptions options, FieldKeyCache? keys, out int skipped)
    {
        skipped = 0;
        var pos = start;
        var separator = (byte)' ';
        for (var i = 0; i < fields.Length; i++)
        {
            ref readonly var field = ref fields[i];
            if (!IsWritable(field))
            {
                skipped++;
                continue;
            }

            var seen = false;
            var key = keys?.Find(field.Key, i, out seen);
            if (span.Length - pos < (key?.Length ?? field.Key.Length * 3 + 1) + 1 + ValueBound(field.Value) + TrailerBytes)
            {
                return -1;
            }

            span[pos++] = separator;
            separator = (byte)',';
            if (key is not null)
            {
                key.CopyTo(span[pos..]);
                pos += key.Length;
            }
            else
            {
                var length = WriteKey(field.Key, span[pos..]);
                span[pos + length++] = (byte)'=';
                if (seen)
                {
                    keys!.Store(field.Key, i, span.Slice(pos, length).ToArray());
                }

                pos += length;
            }

            pos += WriteValue(field.Value, span[pos..], options);
        }

        if (separator == (byte)' ')
        {
            return 0;
        }

        span[pos++] = (byte)' ';
        Utf8Formatter.TryFormat(timestampUnixNs, span[pos..], out var written);
        pos += written;
        span[pos++] = (byte)'\n';
        return pos;
    }

    private static bool IsWritable(in Field field) =>
        !IsUnwritable(field.Key) && (field.Value.Kind != FieldKind.Float || double.IsFinite(field.Value.AsDouble));

    // A trailing backslash would escape the separator after it, and line protocol has no other form for it.
    private static ReadOnlySpan<char> Trim(string name) => name.AsSpan().TrimEnd('\\');

    private static int ValueBound(in FieldValue value) => value.Kind == FieldKind.String ? value.AsString.Length * 3 + 2 : MaxNumberBytes;

    // Insertion sort of indices: tag lists are short and usually already sorted, where this is one pass.
    private static void SortByKey(ReadOnlySpan<Tag> tags, Span<int> order)
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

    private static int WriteName(string name, Span<byte> span, SearchValues<char> specials) => Escape(Trim(name), span, specials);

    private static int WriteValue(in FieldValue value, Span<byte> span, LineProtocolOptions options)
    {
        int written;
        switch (value.Kind)
        {
            case FieldKind.Float:
                value.AsDouble.TryFormat(span, out written, "R", CultureInfo.InvariantCulture);
                return written;
            case FieldKind.Integer:
                Utf8Formatter.TryFormat(value.AsLong, span, out written);
                span[written] = (byte)'i';
                return written + 1;
            case FieldKind.UInteger when options.UnsignedAsInteger:
                Utf8Formatter.TryFormat(Math.Min(value.AsULong, (ulong)long.MaxValue), span, out written);
                span[written] = (byte)'i';
                return written + 1;
            case FieldKind.UInteger:
                Utf8Formatter.TryFormat(value.AsULong, span, out written);
                span[written] = (byte)'u';
                return written + 1;
            case FieldKind.Boolean:
                var text = value.AsBool ? "true"u8 : "false"u8;
                text.CopyTo(span);
                return text.Length;
            default:
                var body = span[1..];
                written = NarrowPlainText(value.AsString, body);
                if (written < 0)
                {
                    written = Escape(value.AsString, body, StringFieldSpecials);
                }

                span[0] = (byte)'"';
                span[written + 1] = (byte)'"';
                return written + 2;
        }
    }

    // The one escaping routine: a backslash before each special character, CR, LF and TAB as \r, \n, \t (only names have them as specials).
    private static int Escape(ReadOnlySpan<char> text, Span<byte> span, SearchValues<char> specials)
    {
        // Most text is ASCII with nothing to escape: narrowed in one vectorized pass.
        if (!text.ContainsAny(specials) && Ascii.FromUtf16(text, span, out var narrowed) == OperationStatus.Done)
        {
            return narrowed;
        }

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

    /// <summary>
    /// String values are mostly short ASCII with no quote or backslash (paths, addresses, versions): checked and narrowed 8 chars
    /// at a time, twice as fast on them as the general <see cref="Escape"/>. Returns the length, or -1 when the text needs escaping or is not ASCII.
    /// </summary>
    private static int NarrowPlainText(ReadOnlySpan<char> text, Span<byte> span)
    {
        var length = text.Length;
        if (length > span.Length)
        {
            return -1;
        }

        ref var source = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(text));
        ref var destination = ref MemoryMarshal.GetReference(span);
        if (length < Vector128<ushort>.Count)
        {
            for (var i = 0; i < length; i++)
            {
                var c = Unsafe.Add(ref source, i);
                if (c > 0x7F || c == '"' || c == '\\')
                {
                    return -1;
                }

                Unsafe.Add(ref destination, i) = (byte)c;
            }

            return length;
        }

        var maxAscii = Vector128.Create((ushort)0x7F);
        var quote = Vector128.Create((ushort)'"');
        var backslash = Vector128.Create((ushort)'\\');

        // The last block overlaps the one before it rather than leaving a scalar tail.
        for (var i = 0; ; i = Math.Min(i + Vector128<ushort>.Count, length - Vector128<ushort>.Count))
        {
            var chars = Vector128.LoadUnsafe(ref source, (nuint)i);
            if ((Vector128.GreaterThan(chars, maxAscii) | Vector128.Equals(chars, quote) | Vector128.Equals(chars, backslash)) != Vector128<ushort>.Zero)
            {
                return -1;
            }

            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, i), Vector128.Narrow(chars, chars).AsUInt64().ToScalar());
            if (i + Vector128<ushort>.Count == length)
            {
                return length;
            }
        }
    }
}
