using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kubebpf.Sdk.Metrics;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>
/// Golden cases of <see cref="LineProtocol"/> and <see cref="LineProtocolEncoder"/>: <c>testcases/line-protocol/&lt;case&gt;/input.json</c> holds points (fields typed,
/// values as text so NaN and 64-bit extremes are exact), <c>expected.lp</c> the exact bytes. Every escaping rule has a case.
/// </summary>
public sealed class LineProtocolGoldenTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "testcases", "line-protocol");

    public static TheoryData<string> Cases() => [.. Directory.GetDirectories(Root).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Writes_the_expected_bytes(string name)
    {
        var directory = Path.Combine(Root, name);
        using var input = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "input.json")));
        var root = input.RootElement;
        var options = root.TryGetProperty("options", out var o) && o.GetProperty("unsignedAsInteger").GetBoolean()
            ? LineProtocolOptions.InfluxDb1
            : LineProtocolOptions.Default;
        var points = root.GetProperty("points").EnumerateArray().Select(ReadPoint).ToList();

        var buffer = new ArrayBufferWriter<byte>();
        var stats = LineProtocol.Write(points, buffer, options);

        var expectedText = File.ReadAllText(Path.Combine(directory, "expected.lp"), Encoding.UTF8);
        Assert.Equal(expectedText, Encoding.UTF8.GetString(buffer.WrittenSpan));
        var expected = root.GetProperty("stats");
        var expectedStats = new LineProtocolStats(
            expected.GetProperty("pointsWritten").GetInt32(), expected.GetProperty("pointsSkipped").GetInt32(), expected.GetProperty("fieldsSkipped").GetInt32());
        Assert.Equal(expectedStats, stats);

        // The sink's encoder, which caches series and field keys: the same bytes whether they come from its caches or not.
        var encoder = new LineProtocolEncoder(options);
        for (var pass = 0; pass < 3; pass++)
        {
            buffer.ResetWrittenCount();
            Assert.Equal(expectedStats, encoder.Write(points, buffer));
            Assert.Equal(expectedText, Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
    }

    [Fact]
    public void Appends_to_what_the_buffer_already_holds_and_formats_one_line_without_newline()
    {
        var point = new MetricPoint("m", [new Tag("k", "v")], [new Field("f", FieldValue.Integer(1))], 5);
        var buffer = new ArrayBufferWriter<byte>();

        LineProtocol.Write(point, buffer);
        LineProtocol.Write(point, buffer);

        Assert.Equal("m,k=v f=1i 5\nm,k=v f=1i 5\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal("m,k=v f=1i 5", LineProtocol.Format(point));
    }

    [Fact]
    public void Sorts_more_tags_than_fit_on_the_stack()
    {
        var tags = Enumerable.Range(0, 100).Reverse().Select(i => new Tag($"k{i:D3}", "v")).ToArray();
        var line = LineProtocol.Format(new MetricPoint("m", tags, [new Field("f", FieldValue.Integer(1))], 0));

        Assert.StartsWith("m," + string.Join(',', Enumerable.Range(0, 100).Select(i => $"k{i:D3}=v")) + " ", line, StringComparison.Ordinal);
    }

    private static MetricPoint ReadPoint(JsonElement point) => new(
        point.GetProperty("measurement").GetString()!,
        [.. point.GetProperty("tags").EnumerateArray().Select(t => new Tag(t[0].GetString()!, t[1].GetString()!))],
        [.. point.GetProperty("fields").EnumerateArray().Select(f => new Field(f[0].GetString()!, ReadValue(f[1].GetString()!, f[2].GetString()!)))],
        point.GetProperty("time").GetInt64());

    private static FieldValue ReadValue(string kind, string text) => kind switch
    {
        "float" => FieldValue.Float(double.Parse(text, CultureInfo.InvariantCulture)),
        "integer" => FieldValue.Integer(long.Parse(text, CultureInfo.InvariantCulture)),
        "uinteger" => FieldValue.UInteger(ulong.Parse(text, CultureInfo.InvariantCulture)),
        "boolean" => FieldValue.Boolean(bool.Parse(text)),
        "string" => FieldValue.String(text),
        _ => throw new InvalidDataException($"unknown field kind '{kind}'"),
    };
}
