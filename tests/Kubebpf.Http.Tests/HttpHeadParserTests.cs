using System.Text;
using Kubebpf.Http.Parsing;

namespace Kubebpf.Http.Tests;

public class HttpHeadParserTests
{
    private const int Max = HttpHeadParser.DefaultMaxHeadBytes;

    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    [Fact]
    public void Parses_a_typical_request_head()
    {
        var data = Bytes("GET /api/items?id=7 HTTP/1.1\r\nHost: shop.local\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\nbody");
        var head = HttpHeadParser.ParseRequest(data, Max);

        Assert.Equal(HeadParseStatus.Complete, head.Status);
        Assert.Equal(data.Length - 4, head.Length);
        Assert.Equal("GET", Encoding.ASCII.GetString(head.Method));
        Assert.Equal("/api/items?id=7", Encoding.ASCII.GetString(head.Target));
        Assert.Equal(HttpVersion.Http11, head.Version);
        Assert.Equal("shop.local", Encoding.ASCII.GetString(head.Fields.Host));
        Assert.Equal(12, head.Fields.ContentLength);
        Assert.True(head.Fields.ConnectionKeepAlive);
        Assert.False(head.Fields.Chunked);
    }

    [Theory]
    [InlineData("OPTIONS * HTTP/1.1\r\n\r\n", "OPTIONS", "*")]
    [InlineData("CONNECT db:5432 HTTP/1.1\r\n\r\n", "CONNECT", "db:5432")]
    [InlineData("PURGE /cache HTTP/1.0\r\n\r\n", "PURGE", "/cache")]
    [InlineData("M-SEARCH * HTTP/1.1\n\n", "M-SEARCH", "*")]
    public void Accepts_any_method_token(string text, string method, string target)
    {
        var head = HttpHeadParser.ParseRequest(Bytes(text), Max);

        Assert.Equal(HeadParseStatus.Complete, head.Status);
        Assert.Equal(text.Length, head.Length);
        Assert.Equal(method, Encoding.ASCII.GetString(head.Method));
        Assert.Equal(target, Encoding.ASCII.GetString(head.Target));
    }

    [Fact]
    public void Tolerates_bare_line_feeds_and_mixed_case_names()
    {
        var text = "POST /x HTTP/1.0\nTRANSFER-ENCODING: gzip, Chunked\nconnection: Close\nEXPECT: 100-Continue\n\n";
        var head = HttpHeadParser.ParseRequest(Bytes(text), Max);

        Assert.Equal(HeadParseStatus.Complete, head.Status);
        Assert.Equal(text.Length, head.Length);
        Assert.Equal(HttpVersion.Http10, head.Version);
        Assert.True(head.Fields.Chunked);
        Assert.True(head.Fields.ConnectionClose);
        Assert.True(head.Fields.ExpectContinue);
        Assert.False(head.Fields.KeepsAlive(head.Version));
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "ConflictingContentLength")]
    [InlineData("GET / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", "ConflictingContentLength")]
    [InlineData("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "ContentLength")]
    [InlineData("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", "ContentLength")]
    [InlineData("GET / HTTP/1.1\r\nContent-Length:\r\n\r\n", "ContentLength")]
    [InlineData("GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "TransferEncoding")]
    [InlineData("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", "HeaderLine")]
    [InlineData("GET / HTTP/1.1\r\nX: 1\r\n folded\r\n\r\n", "HeaderLine")]
    [InlineData("GET / HTTP/2.0\r\n\r\n", "RequestLine")]
    [InlineData("GET  / HTTP/1.1\r\n\r\n", "RequestLine")]
    [InlineData("GET /a\tb HTTP/1.1\r\n\r\n", "RequestLine")]
    [InlineData("G(T / HTTP/1.1\r\n\r\n", "RequestLine")]
    [InlineData("\u0016\u0003\u0001\u0002\u0000\u0001", "RequestLine")]
    [InlineData("GET / FTP/1.1", "RequestLine")]
    public void Rejects_invalid_requests_with_a_reason(string text, string error)
    {
        var head = HttpHeadParser.ParseRequest(Bytes(text), Max);

        Assert.Equal(HeadParseStatus.Invalid, head.Status);
        Assert.Equal(error, head.Error.ToString());
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\tagain\r\nContent-Length: 4\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\n X-Right-After-The-Status-Line: 1\r\nContent-Length: 4\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\nContent-Length: 4\nX-A: 1\n folded\n\n")]
    public void Accepts_obs_fold_in_a_response(string text)
    {
        var head = HttpHeadParser.ParseResponse(Bytes(text), Max);

        Assert.Equal(HeadParseStatus.Complete, head.Status);
        Assert.Equal(text.Length, head.Length);
        Assert.Equal(4, head.Fields.ContentLength);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n 4\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n")]
    public void Rejects_a_response_whose_framing_field_is_folded(string text)
    {
        var head = HttpHeadParser.ParseResponse(Bytes(text), Max);

        Assert.Equal(HeadParseStatus.Invalid, head.Status);
        Assert.Equal(HeadError.HeaderLine, head.Error);
    }

    [Fact]
    public void Accepts_a_list_of_identical_content_lengths()
    {
        var head = HttpHeadParser.ParseRequest(Bytes("PUT / HTTP/1.1\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n"), Max);

        Assert.Equal(HeadParseStatus.Complete, head.Status);
        Assert.Equal(7, head.Fields.ContentLength);
    }

    [Fact]
    public void Every_proper_prefix_of_a_head_is_incomplete()
    {
        var text = Bytes("DELETE /v1/x HTTP/1.1\r\nHost: a\r\n\r\n");
        for (var n = 0; n < text.Length; n++)
        {
            var head = HttpHeadParser.ParseRequest(text.AsSpan(0, n), Max);
            Assert.Equal(HeadParseStatus.Incomplete, head.Status);
            Assert.Equal(n >= 23, head.HasStartLine);
        }
    }

    [Fact]
    public void Every_proper_prefix_of_a_status_head_is_incomplete()
    {
        var text = Bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        for (var n = 0; n < text.Length; n++)
        {
            Assert.True(HttpHeadParser.IsStatusLinePrefix(text.AsSpan(0, n)));
            Assert.Equal(HeadParseStatus.Incomplete, HttpHeadParser.ParseResponse(text.AsSpan(0, n), Max).Status);
        }
    }

    [Fact]
    public void A_head_longer_than_the_cap_is_oversized_with_its_request_line()
    {
        var text = Bytes("GET /big HTTP/1.1\r\nCookie: " + new string('a', 200) + "\r\n\r\n");
        var head = HttpHeadParser.ParseRequest(text, 100);

        Assert.Equal(HeadParseStatus.Oversized, head.Status);
        Assert.True(head.HasStartLine);
        Assert.Equal("/big", Encoding.ASCII.GetString(head.Target));
        Assert.Equal(HeadParseStatus.Complete, HttpHeadParser.ParseRequest(text, text.Length).Status);
        Assert.Equal(HeadParseStatus.Oversized, HttpHeadParser.ParseRequest(text, text.Length - 1).Status);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", 200, 3, false)]
    [InlineData("HTTP/1.0 204\r\n\r\n", 204, -1, false)]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 101, -1, false)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, -1, true)]
    public void Parses_status_lines(string text, int status, long contentLength, bool chunked)
    {
        var head = HttpHeadParser.ParseResponse(Bytes(text), Max);

        Assert.Equal(HeadParseStatus.Complete, head.Status);
        Assert.Equal(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4, head.Length);
        Assert.Equal(status, head.StatusCode);
        Assert.Equal(contentLength, head.Fields.ContentLength);
        Assert.Equal(chunked, head.Fields.Chunked);
    }

    [Theory]
    [InlineData("HTTP/1.1 2x0 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 200OK\r\n\r\n")]
    [InlineData("HTTP/1.1 099 Low\r\n\r\n")]
    [InlineData("HTTP/2 200\r\n\r\n")]
    [InlineData("SSH-2.0-OpenSSH_9.2")]
    public void Rejects_invalid_status_lines(string text)
    {
        var head = HttpHeadParser.ParseResponse(Bytes(text), Max);

        Assert.Equal(HeadParseStatus.Invalid, head.Status);
        Assert.Equal(HeadError.StatusLine, head.Error);
    }

    [Fact]
    public void Standard_methods_and_versions_are_shared_strings()
    {
        var interner = new StringInterner(4);

        Assert.Same("OPTIONS", HttpStrings.Method("OPTIONS"u8, interner));
        Assert.Same(HttpStrings.Method("PURGE"u8, interner), HttpStrings.Method("PURGE"u8, interner));
        Assert.Same("HTTP/1.0", HttpStrings.Version(HttpVersion.Http10));
        Assert.Equal(1, interner.Count);
    }

    [Fact]
    public void The_interner_stops_caching_at_its_capacity()
    {
        var interner = new StringInterner(1);
        var first = interner.Intern("a.local"u8);
        var second = interner.Intern("b.local"u8);

        Assert.Same(first, interner.Intern("a.local"u8));
        Assert.NotSame(second, interner.Intern("b.local"u8));
        Assert.Equal("b.local", second);
        Assert.Equal(1, interner.Count);
    }

    [Theory]
    [InlineData("/a/b?x=1&y=2", true, "/a/b", "x=1&y=2")]
    [InlineData("/a/b?x=1", false, "/a/b", null)]
    [InlineData("/a?", true, "/a", "")]
    [InlineData("*", true, "*", null)]
    public void Splits_the_query_string_off_the_path(string target, bool withQuery, string path, string? query)
    {
        string? recent = null;
        Assert.Equal(path, HttpStrings.Path(Encoding.ASCII.GetBytes(target), withQuery, ref recent, out var actualQuery));
        Assert.Equal(query, actualQuery);
        Assert.Same(recent, HttpStrings.Path(Encoding.ASCII.GetBytes(target), withQuery, ref recent, out _));
    }

    [Fact]
    public void The_recent_path_is_reused_only_for_the_same_text()
    {
        string? recent = null;
        var first = HttpStrings.Path("/a/b?x=1"u8, withQuery: false, ref recent, out _);
        Assert.Same(first, recent);
        Assert.Same(first, HttpStrings.Path("/a/b?y=2"u8, withQuery: false, ref recent, out _));

        var other = HttpStrings.Path("/a/c"u8, withQuery: false, ref recent, out _);
        Assert.Equal("/a/c", other);
        Assert.Same(other, recent);

        // Non-ASCII bytes are decoded every time (and still equal).
        var accented = HttpStrings.Path("/caf\u00e9"u8, withQuery: false, ref recent, out _);
        Assert.Equal("/caf\u00e9", accented);
        Assert.Equal(accented, HttpStrings.Path("/caf\u00e9"u8, withQuery: false, ref recent, out _));
        Assert.Equal("/a/c", HttpStrings.Path("/a/c"u8, withQuery: false, ref recent, out _));
    }
}
