namespace Kubebpf.Integration.Tests;

/// <summary>The conformance corpus is what its kernel test needs: enough distinct exchanges, every way to carry them.</summary>
public sealed class ConformanceCorpusShapeTests
{
    [Fact]
    public void The_corpus_has_at_least_250_distinct_exchanges_on_every_kind_of_connection()
    {
        var corpus = ConformanceCorpus.Load();
        Assert.True(corpus.Entries.Count >= 250, $"{corpus.Entries.Count} entries");
        Assert.Contains(corpus.Connections, c => c.Pipelined);
        Assert.Contains(corpus.Connections, c => !c.Pipelined && c.Entries.Count > 1);
        Assert.Contains(corpus.Connections, c => c.Entries.Count == 1);
        Assert.Contains(corpus.Entries, e => e.Expected.Method == "OTHER");
        Assert.Equal(["2xx", "3xx", "4xx", "5xx"], corpus.Entries.Select(e => $"{e.FinalStatus / 100}xx").Distinct().Order());
        Assert.Contains(corpus.Entries, e => e.Response.AsSpan().StartsWith("HTTP/1.1 1"u8)); // interim responses first
    }
}
