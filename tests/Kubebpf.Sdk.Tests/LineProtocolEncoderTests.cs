using System.Buffers;
using System.Globalization;
using System.Text;
using FsCheck.Xunit;
using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Sdk.Tests;

/// <summary>
/// <see cref="LineProtocolEncoder"/> must write exactly what <see cref="LineProtocol.Write(MetricPoint, IBufferWriter{byte}, LineProtocolOptions?)"/>
/// writes, whether its caches miss, admit or hit; both are also checked against a plain reference written from the rules
/// documented on <see cref="LineProtocol"/>, since they share their escaping code.
/// </summary>
public sealed class LineProtocolEncoderTests
{
    private const long Time = 1_700_000_000_123_456_789;

    private static readonly Tag[] SharedTags = [new("workload", "api"), new("direction", "in"), new("method", "GET")];

    public static TheoryData<string> Cases() => [.. VariedPoints().Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Writes_what_LineProtocol_writes(string name)
    {
        var point = VariedPoints()[name];
        foreach (var options in new[] { LineProtocolOptions.Default, LineProtocolOptions.InfluxDb1 })
        {
            var encoder = new LineProtocolEncoder(options);
            var expected = Static([point], options);
            Assert.Equal(Reference([point], options), expected);

            // First sighting, second (kept), third (from the cache).
            for (var pass = 0; pass < 3; pass++)
            {
                Assert.Equal(expected, Encode(encoder, [point]));
            }
        }
    }

    [Fact]
    public void Writes_every_case_in_one_batch_through_one_encoder()
    {
        List<MetricPoint> batch = [.. VariedPoints().Values];
        var encoder = new LineProtocolEncoder();
        var expected = Static(batch, LineProtocolOptions.Default);

        Assert.Equal(expected, Encode(encoder, batch));
        Assert.Equal(expected, Encode(encoder, batch));
    }

    [Fact]
    public void A_shared_tag_array_keeps_its_series_while_fields_and_timestamps_change()
    {
        var encoder = new LineProtocolEncoder();
        var points = Enumerable.Range(0, 20)
            .Select(i => new MetricPoint("http_requests", SharedTags, [new("status", FieldValue.Integer(200 + i)), new("path", FieldValue.String($"/p/{i}"))], Time + i))
            .ToList();

        var (text, stats) = Encode(encoder, points);

        Assert.Equal(Static(points, LineProtocolOptions.Default), (text, stats));
        Assert.StartsWith("http_requests,direction=in,method=GET,workload=api status=219i,path=\"/p/19\" ", text.Split('\n')[19], StringComparison.Ordinal);
        Assert.Equal(1, encoder.SeriesCache.Stored);
    }

    [Fact]
    public void Tag_arrays_with_other_values_and_one_array_under_two_measurements_stay_apart()
    {
        var encoder = new LineProtocolEncoder();
        Tag[] post = [new("workload", "api"), new("direction", "in"), new("method", "POST")];
        Field[] fields = [new("n", FieldValue.Integer(1))];
        List<MetricPoint> batch =
        [
            new("http_requests", SharedTags, fields, 1),
            new("http_requests", post, fields, 2),
            new("http_red", SharedTags, fields, 3),
            new("http_red", post, fields, 4),
        ];

        for (var pass = 0; pass < 3; pass++)
        {
            Assert.Equal(
                ("http_requests,direction=in,method=GET,workload=api n=1i 1\n"
                    + "http_requests,direction=in,method=POST,workload=api n=1i 2\n"
                    + "http_red,direction=in,method=GET,workload=api n=1i 3\n"
                    + "http_red,direction=in,method=POST,workload=api n=1i 4\n",
                    new LineProtocolStats(4, 0, 0)),
                Encode(encoder, batch));
        }
    }

    [Fact]
    public void A_line_longer_than_the_span_first_asked_for_is_written_again_in_full()
    {
        var encoder = new LineProtocolEncoder();
        var point = new MetricPoint("m", SharedTags, [new("path", FieldValue.String(new string('x', 5000) + "é\"")), new("n", FieldValue.Integer(1))], Time);
        var expected = Static([point], LineProtocolOptions.Default);

        for (var pass = 0; pass < 3; pass++)
        {
            var exact = new ExactBufferWriter();
            var stats = encoder.Write(point, exact);
            Assert.Equal(expected, (Encoding.UTF8.GetString(exact.Written), stats));
        }
    }

    [Fact]
    public void String_values_of_every_length_with_a_character_to_escape_or_transcode_anywhere()
    {
        var encoder = new LineProtocolEncoder();
        List<MetricPoint> batch = [];
        for (var length = 0; length <= 40; length++)
        {
            batch.Add(new MetricPoint("m", [], [new("s", FieldValue.String(new string('a', length)))], length));
            for (var at = 0; at < length; at++)
            {
                foreach (var special in "\"\\é\n\u007f\u0080\uD83D")
                {
                    var text = new string('a', at) + special + new string('b', length - at - 1);
                    batch.Add(new MetricPoint("m", [], [new("s", FieldValue.String(text))], length));
                }
            }
        }

        var expected = Reference(batch, LineProtocolOptions.Default);
        Assert.Equal(expected, Static(batch, LineProtocolOptions.Default));
        Assert.Equal(expected, Encode(encoder, batch));
    }

    [Fact]
    public void Text_seen_once_is_not_kept()
    {
        var encoder = new LineProtocolEncoder();
        for (var i = 0; i < 100; i++)
        {
            Encode(encoder, [new MetricPoint("m", [new("k", "v")], [new(new string('f', 3), FieldValue.Integer(i))], i)]);
        }

        Assert.Equal(0, encoder.SeriesCache.Stored);
        Assert.Equal(0, encoder.FieldKeyCache.Stored);
    }

    [Fact]
    public void Caches_start_over_at_their_bound_and_keep_writing_the_same_bytes()
    {
        const int Bound = 8;
        var encoder = new LineProtocolEncoder(LineProtocolOptions.Default, Bound, Bound);
        for (var i = 0; i < 100; i++)
        {
            // Arrays and keys of each point seen twice, so every one is kept until the cache starts over.
            var point = new MetricPoint("m", [new("k", $"v{i}"), new("a", "b")], [new($"f{i % 20}", FieldValue.Integer(i)), new("g", FieldValue.Boolean(true))], i);
            var expected = Static([point, point], LineProtocolOptions.Default);

            Assert.Equal(expected, Encode(encoder, [point, point]));
            Assert.InRange(encoder.SeriesCache.Count, 1, Bound);
            Assert.InRange(encoder.FieldKeyCache.Count, 1, Bound);
        }

        Assert.True(encoder.SeriesCache.Stored > 0);
        Assert.True(encoder.FieldKeyCache.Stored > 0);
    }

    [Fact]
    public void Rejects_null_arguments()
    {
        var encoder = new LineProtocolEncoder();
        Assert.Throws<ArgumentNullException>(() => encoder.Write((MetricPoint)null!, new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentNullException>(() => encoder.Write((IReadOnlyList<MetricPoint>)null!, new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentNullException>(() => encoder.Write(new MetricPoint("m", [], [new("f", FieldValue.Integer(1))], 0), null!));
        Assert.Same(LineProtocolOptions.Default, encoder.Options);
    }

    /// <summary>
    /// Random points over an alphabet of every character with a rule (separators, quotes, backslashes, CR/LF/TAB, non-ASCII,
    /// a lone surrogate); each batch reuses its tag array under a second measurement and with other fields, and is written
    /// three times through one encoder.
    /// </summary>
    [Property(MaxTest = 500)]
    public void Encoder_static_writer_and_reference_agree(byte[] measurement, (byte[] Key, byte[] Value)[] tags, (byte Kind, byte[] Key, long Number, byte[] Text)[] fields, long timestamp, bool unsignedAsInteger)
    {
        var options = unsignedAsInteger ? LineProtocolOptions.InfluxDb1 : LineProtocolOptions.Default;
        var tagArray = (tags ?? []).Select(t => new Tag(Text(t.Key), Text(t.Value))).ToArray();
        var fieldArray = (fields ?? []).Select(f => new Field(Text(f.Key), Value(f.Kind, f.Number, Text(f.Text)))).ToArray();
        if (fieldArray.Length == 0)
        {
            fieldArray = [new Field("f", FieldValue.Integer(timestamp))];
        }

        var name = Text(measurement) is { Length: > 0 } text ? text : "m";
        List<MetricPoint> batch =
        [
            new(name, tagArray, fieldArray, timestamp),
            new("other", tagArray, fieldArray, timestamp),
            new(name, tagArray, [.. fieldArray.Reverse()], timestamp ^ 1),
        ];

        var expected = Reference(batch, options);
        Assert.Equal(expected, Static(batch, options));
        var encoder = new LineProtocolEncoder(options);
        for (var pass = 0; pass < 3; pass++)
        {
            Assert.Equal(expected, Encode(encoder, batch));
        }
    }

    private static Dictionary<string, MetricPoint> VariedPoints()
    {
        Field[] one = [new("f", FieldValue.Integer(1))];
        return new Dictionary<string, MetricPoint>(StringComparer.Ordinal)
        {
            ["call log"] = new("http_requests", [new("workload", "cart"), new("namespace", "shop"), new("node", "n1"), new("direction", "in")],
                [new("path", FieldValue.String("/users/1234")), new("status", FieldValue.Integer(200)), new("duration_ns", FieldValue.Integer(1_234_567)),
                 new("client", FieldValue.String("10.1.0.5:40001")), new("version", FieldValue.String("HTTP/1.1"))], Time),
            ["no tags"] = new("m", [], one, Time),
            ["unsorted tags"] = new("m", [new("b", "2"), new("a", "3"), new("_", "0"), new("B", "1")], one, Time),
            ["empty and trailing-backslash tags"] = new("m", [new("", "v"), new("k", ""), new("k2", "\\\\"), new("\\", "v"), new("ok", "v\\")], one, Time),
            ["measurement escapes"] = new("my meas,ure=x\n\t\r#", [], one, Time),
            ["tag escapes"] = new("m", [new("k,e=y 1\n", "v,a=l ue\r\t")], one, Time),
            ["backslashes in names"] = new("back\\slash", [new("a", "x\\y"), new("b", "x\\\\,y")], [new("f\\", FieldValue.Integer(1))], Time),
            ["field key escapes"] = new("m", [], [new("f,i=e l d\n", FieldValue.Integer(1))], Time),
            ["string escapes"] = new("m", [], [new("s", FieldValue.String("say \"hi\" C:\\dir\\ a,b=c d")), new("nl", FieldValue.String("line1\nline2\tend")), new("e", FieldValue.String(""))], Time),
            ["unicode"] = new("mesure é", [new("clé", "✓ ok"), new("日本", "語")], [new("émoji", FieldValue.String("😀")), new("ключ", FieldValue.String("значение\"")), new("lone", FieldValue.String("a\uD800b"))], Time),
            ["non-finite floats"] = new("m", [], [new("nan", FieldValue.Float(double.NaN)), new("ok", FieldValue.Float(1.5)), new("inf", FieldValue.Float(double.PositiveInfinity)), new("ninf", FieldValue.Float(double.NegativeInfinity))], Time),
            ["no writable field"] = new("m", [new("k", "v")], [new("nan", FieldValue.Float(double.NaN)), new("", FieldValue.Integer(1)), new("\\", FieldValue.Integer(2))], Time),
            ["measurement without form"] = new("\\\\", [new("k", "v")], [new("nan", FieldValue.Float(double.NaN)), new("f", FieldValue.Integer(1))], Time),
            ["floats"] = new("m", [], [new("a", FieldValue.Float(0.1)), new("b", FieldValue.Float(1e20)), new("c", FieldValue.Float(-0.0)), new("d", FieldValue.Float(double.MaxValue)), new("e", FieldValue.Float(double.Epsilon)), new("g", FieldValue.Float(1.0 / 3))], Time),
            ["integers and booleans"] = new("m", [], [new("min", FieldValue.Integer(long.MinValue)), new("max", FieldValue.Integer(long.MaxValue)), new("umax", FieldValue.UInteger(ulong.MaxValue)), new("u", FieldValue.UInteger(42)), new("t", FieldValue.Boolean(true)), new("f", FieldValue.Boolean(false))], -1),
            ["long strings"] = new("m", [new("k", new string('v', 300))], [new("s", FieldValue.String(new string('a', 2000))), new("t", FieldValue.String(new string('é', 700) + "\\"))], Time),
            ["many tags"] = new("m", [.. Enumerable.Range(0, 100).Reverse().Select(i => new Tag($"k{i:D3}", "v"))], one, Time),
        };
    }

    private static (string Text, LineProtocolStats Stats) Encode(LineProtocolEncoder encoder, IReadOnlyList<MetricPoint> points)
    {
        var buffer = new ArrayBufferWriter<byte>(16);
        var stats = encoder.Write(points, buffer);
        return (Encoding.UTF8.GetString(buffer.WrittenSpan), stats);
    }

    private static (string Text, LineProtocolStats Stats) Static(IReadOnlyList<MetricPoint> points, LineProtocolOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>(16);
        var stats = LineProtocol.Write(points, buffer, options);
        return (Encoding.UTF8.GetString(buffer.WrittenSpan), stats);
    }

    // The documented rules, written plainly: strings built char by char, then one UTF-8 conversion.
    private static (string Text, LineProtocolStats Stats) Reference(IReadOnlyList<MetricPoint> points, LineProtocolOptions options)
    {
        var text = new StringBuilder();
        var stats = default(LineProtocolStats);
        foreach (var point in points)
        {
            var writable = point.Fields.Where(f => f.Key.TrimEnd('\\').Length > 0 && (f.Value.Kind != FieldKind.Float || double.IsFinite(f.Value.AsDouble))).ToList();
            var skipped = point.Fields.Count - writable.Count;
            if (writable.Count == 0 || point.Measurement.TrimEnd('\\').Length == 0)
            {
                stats += new LineProtocolStats(0, 1, skipped);
                continue;
            }

            stats += new LineProtocolStats(1, 0, skipped);
            text.Append(Escape(point.Measurement.TrimEnd('\\'), ", \n\r\t"));
            foreach (var tag in point.Tags.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                if (tag.Key.TrimEnd('\\').Length > 0 && tag.Value.TrimEnd('\\').Length > 0)
                {
                    text.Append(',').Append(Escape(tag.Key.TrimEnd('\\'), ",= \n\r\t")).Append('=').Append(Escape(tag.Value.TrimEnd('\\'), ",= \n\r\t"));
                }
            }

            text.Append(' ').AppendJoin(',', writable.Select(f => Escape(f.Key.TrimEnd('\\'), ",= \n\r\t") + "=" + Format(f.Value, options)));
            text.Append(' ').Append(point.TimestampUnixNs.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        // Through UTF-8 and back, so that lone surrogates read as U+FFFD in both.
        return (Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text.ToString())), stats);

        static string Format(FieldValue value, LineProtocolOptions options) => value.Kind switch
        {
            FieldKind.Float => value.AsDouble.ToString("R", CultureInfo.InvariantCulture),
            FieldKind.Integer => value.AsLong.ToString(CultureInfo.InvariantCulture) + "i",
            FieldKind.UInteger when options.UnsignedAsInteger => Math.Min(value.AsULong, (ulong)long.MaxValue).ToString(CultureInfo.InvariantCulture) + "i",
            FieldKind.UInteger => value.AsULong.ToString(CultureInfo.InvariantCulture) + "u",
            FieldKind.Boolean => value.AsBool ? "true" : "false",
            _ => "\"" + Escape(value.AsString, "\"\\") + "\"",
        };

        static string Escape(string text, string specials)
        {
            var escaped = new StringBuilder();
            foreach (var c in text)
            {
                if (specials.Contains(c, StringComparison.Ordinal))
                {
                    escaped.Append('\\').Append(c switch { '\n' => 'n', '\r' => 'r', '\t' => 't', _ => c });
                }
                else
                {
                    escaped.Append(c);
                }
            }

            return escaped.ToString();
        }
    }

    private static readonly string[] Alphabet = ["a", "b", "Z", "0", "_", ",", "=", " ", "\"", "\\", "\n", "\r", "\t", "#", "é", "✓", "😀", "\uD800"];

    private static string Text(byte[]? codes) => string.Concat((codes ?? []).Select(c => Alphabet[c % Alphabet.Length]));

    private static FieldValue Value(byte kind, long number, string text) => (kind % 5) switch
    {
        0 => FieldValue.Float(BitConverter.Int64BitsToDouble(number)),
        1 => FieldValue.Integer(number),
        2 => FieldValue.UInteger((ulong)number),
        3 => FieldValue.String(text),
        _ => FieldValue.Boolean((number & 1) != 0),
    };

    /// <summary>A writer that hands out exactly the size asked for, as some pooled writers do.</summary>
    private sealed class ExactBufferWriter : IBufferWriter<byte>
    {
        private byte[] _written = [];
        private byte[] _span = [];

        public ReadOnlySpan<byte> Written => _written;

        public Span<byte> GetSpan(int sizeHint = 0) => _span = new byte[Math.Max(sizeHint, 1)];

        public Memory<byte> GetMemory(int sizeHint = 0) => _span = new byte[Math.Max(sizeHint, 1)];

        public void Advance(int count) => _written = [.. _written, .. _span.AsSpan(0, count)];
    }
}
