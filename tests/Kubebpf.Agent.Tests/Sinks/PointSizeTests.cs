using Kubebpf.Agent.Sinks;
using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Agent.Tests.Sinks;

public sealed class PointSizeTests
{
    [Theory]
    [InlineData(0, 1, 0)]
    [InlineData(10, 12, 40)]
    [InlineData(3, 30, 200)]
    public void The_estimate_is_at_least_what_the_point_holds_when_nothing_is_shared(int tagCount, int fieldCount, int textLength)
    {
        var measurement = Text("http_requests", 0, 0);
        var tagTexts = Enumerable.Range(0, tagCount).Select(i => (Text("tag", i, 0), Text("value", i, textLength))).ToArray();
        var fieldTexts = Enumerable.Range(0, fieldCount).Select(i => (Text("field", i, 0), i % 2 == 0 ? Text("text", i, textLength) : null)).ToArray();
        var strings = new[] { measurement }.Concat(tagTexts.SelectMany(t => new[] { t.Item1, t.Item2 }))
            .Concat(fieldTexts.SelectMany(f => f.Item2 is null ? new[] { f.Item1 } : [f.Item1, f.Item2])).ToList();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var tags = new Tag[tagCount];
        for (var i = 0; i < tagCount; i++)
        {
            tags[i] = new Tag(tagTexts[i].Item1, tagTexts[i].Item2);
        }

        var fields = new Field[fieldCount];
        for (var i = 0; i < fieldCount; i++)
        {
            fields[i] = new Field(fieldTexts[i].Item1, fieldTexts[i].Item2 is { } text ? FieldValue.String(text) : FieldValue.Integer(i));
        }

        var point = new MetricPoint(measurement, tags, fields, 1);
        var held = GC.GetAllocatedBytesForCurrentThread() - before + strings.Sum(StringBytes);

        var estimate = PointSize.Estimate(point);

        Assert.True(estimate >= held, $"estimate {estimate} bytes, the point holds {held}");
        Assert.True(estimate <= 2 * held, $"estimate {estimate} bytes, more than twice the {held} the point holds");
    }

    // A string object: header, method table, length, characters and terminator, rounded up to 8 bytes.
    private static long StringBytes(string text) => (20 + (2 * (text.Length + 1)) + 7) / 8 * 8;

    private static string Text(string prefix, int index, int padding) => string.Concat(prefix, "_", index.ToString(System.Globalization.CultureInfo.InvariantCulture), new string('x', padding));
}
