namespace Kubebpf.Http.Tests;

/// <summary>Runs every <c>testcases/&lt;case&gt;/input</c> and compares the result with <c>expected</c> exactly.</summary>
public class GoldenCaseTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "testcases");

    public static TheoryData<string> Cases() => [.. Directory.GetDirectories(Root).Select(d => Path.GetFileName(d)!).Order()];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_matches_expected(string name)
    {
        var folder = Path.Combine(Root, name);
        var actual = GoldenCase.Run(File.ReadAllText(Path.Combine(folder, "input"))).Render();
        var expected = File.ReadAllText(Path.Combine(folder, "expected")).TrimEnd('\n');

        Assert.Equal(expected, actual);
    }
}
