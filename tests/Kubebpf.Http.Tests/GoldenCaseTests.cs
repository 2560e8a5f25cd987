namespace Kubebpf.Http.Tests;

/// <summary>Runs every <c>testcases/&lt;case&gt;/input</c> through the capture's flow tracker and compares the result with <c>expected</c>.</summary>
public class GoldenCaseTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "testcases");

    public static TheoryData<string> Cases() => [.. Directory.GetDirectories(Root).Select(d => Path.GetFileName(d)!).Order()];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_matches_expected(string name)
    {
        var (input, expected) = Read(name);

        Assert.Equal(expected, GoldenCase.Run(input).Render());
    }

    /// <summary>
    /// However TCP cuts a case's segments, HTTP sees the same exchanges and counts the same losses (the capture's own
    /// counters, such as retransmissions, count segments and may differ).
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_is_the_same_with_any_segment_split_at_any_byte(string name)
    {
        var (input, expected) = Read(name);
        var withoutCapture = WithoutCaptureCounters(expected);
        foreach (var split in GoldenCase.SplitPoints(input))
        {
            var actual = WithoutCaptureCounters(GoldenCase.Run(input, split).Render());
            Assert.True(withoutCapture == actual, $"split at line {split.Line + 1}, byte {split.Offset}:\n{actual}\nexpected:\n{withoutCapture}");
        }
    }

    private static (string Input, string Expected) Read(string name)
    {
        var folder = Path.Combine(Root, name);
        return (File.ReadAllText(Path.Combine(folder, "input")), File.ReadAllText(Path.Combine(folder, "expected")).TrimEnd('\n'));
    }

    private static string WithoutCaptureCounters(string rendered) =>
        string.Join(' ', rendered.Split(' ').Where(word => !Conversation.CaptureCounters.Any(c => word.StartsWith(c + "=", StringComparison.Ordinal))));
}
