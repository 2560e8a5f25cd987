using System.Text;
using Kubebpf.Capture.Capture;
using Kubebpf.Testing;

namespace Kubebpf.Http.Tests;

/// <summary>HTTP's message starts, as the capture's filter applies them to segments longer than a record.</summary>
public sealed class MessageStartsTests
{
    private static readonly WholeSegmentRule WholeSegments = WholeSegmentRule.For([HttpProtocol.Starts]);

    [Fact]
    public void Every_response_and_every_request_of_a_standard_method_in_the_corpus_starts_a_segment_copied_whole()
    {
        var corpus = ConformanceCorpus.Load();

        Assert.False(WholeSegments.TextStarts);
        Assert.All(corpus.Entries, e => Assert.True(WholeSegments.CopiesWhole(e.Response), $"{e}: response"));
        Assert.All(corpus.Entries.Where(e => e.MethodTag != "OTHER"), e => Assert.True(WholeSegments.CopiesWhole(e.Request), $"{e}: request"));
        Assert.All(
            ["PROPFIND /dav HTTP/1.1", "PROPPATCH /dav HTTP/1.1", "MKCOL /dav/new HTTP/1.1", "QUERY /feed HTTP/1.1", "\r\n\r\nGET / HTTP/1.1", "\nPUT /x HTTP/1.1"],
            start => Assert.True(WholeSegments.CopiesWhole(Encoding.ASCII.GetBytes(start)), start));
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("{\"orders\":[{\"id\":42,\"total\":17.5}]}")]
    [InlineData("<!DOCTYPE html><html><head>")]
    [InlineData("GETTING STARTED WITH HTTP")]
    [InlineData("HTTP is a stateless protocol")]
    public void Text_inside_a_body_does_not(string body)
    {
        Assert.False(WholeSegments.CopiesWhole(Encoding.ASCII.GetBytes(body)), body);
    }
}
