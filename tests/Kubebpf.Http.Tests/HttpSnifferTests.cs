using System.Text;
using Kubebpf.Http.Parsing;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Http.Tests;

public class HttpSnifferTests
{
    [Theory]
    [InlineData("GET / HTTP/1.1\r\n\r\n", SniffResult.SenderIsClient)]
    [InlineData("GET ", SniffResult.SenderIsClient)]
    [InlineData("M-SEARCH * HTTP/1.1\r\n", SniffResult.SenderIsClient)]
    [InlineData("PROPFIND /dav HTTP/1.", SniffResult.SenderIsClient)]
    [InlineData("PROPFIND /dav", SniffResult.NeedMoreData)]
    [InlineData("rest of", SniffResult.NeedMoreData)]
    [InlineData("220 ", SniffResult.NeedMoreData)]
    [InlineData("220 mail.example ESMTP\r\n", SniffResult.NotThisProtocol)]
    [InlineData("+OK ready\r\n", SniffResult.NotThisProtocol)]
    [InlineData("\r\n\r\nPOST /x HTTP/1.0\r\n", SniffResult.SenderIsClient)]
    [InlineData("\n\nDELETE /x HT", SniffResult.SenderIsClient)]
    [InlineData("HTTP/1.1 200 OK\r\n", SniffResult.SenderIsServer)]
    [InlineData("\r\nHTTP/1.0 404", SniffResult.SenderIsServer)]
    [InlineData("HTTP/1.", SniffResult.SenderIsServer)]
    [InlineData("", SniffResult.NeedMoreData)]
    [InlineData("G", SniffResult.NeedMoreData)]
    [InlineData("GET", SniffResult.NeedMoreData)]
    [InlineData("H", SniffResult.NeedMoreData)]
    [InlineData("HTTP/1", SniffResult.NeedMoreData)]
    [InlineData("\r\n\r", SniffResult.NeedMoreData)]
    [InlineData("HTTP/2 200\r\n", SniffResult.NotThisProtocol)]
    [InlineData("HTTP/1.1 2x0 OK\r\n", SniffResult.NotThisProtocol)]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", SniffResult.NotThisProtocol)]
    [InlineData("rest of an earlier body", SniffResult.NotThisProtocol)]
    [InlineData("GET /a b HTTP/1.1\r\n", SniffResult.NotThisProtocol)]
    [InlineData(" GET / HTTP/1.1\r\n", SniffResult.NotThisProtocol)]
    [InlineData("\x16\x03\x01\x02\x00\x01\x00", SniffResult.NotThisProtocol)]
    [InlineData("*3\r\n$3\r\nSET\r\n", SniffResult.NotThisProtocol)]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ", SniffResult.NotThisProtocol)]
    public void First_bytes_decide_protocol_and_sender(string start, SniffResult expected)
    {
        var protocol = new HttpProtocol(new HttpOptions(), new Kubebpf.Testing.TestAgentMetrics());
        Assert.Equal(expected, protocol.Sniff(Encoding.Latin1.GetBytes(start), new SniffContext(40000, 8080, SenderOpened: null)));
    }

    [Fact]
    public void Another_method_with_a_target_too_long_to_wait_for_is_a_request_at_the_sniffing_bound()
    {
        var start = Encoding.ASCII.GetBytes("PROPFIND /" + new string('a', ProtocolMatch.MaxSniffBytes));

        Assert.Equal(SniffResult.NeedMoreData, HttpSniffer.Sniff(start.AsSpan(0, ProtocolMatch.MaxSniffBytes - 1), 16384));
        Assert.Equal(SniffResult.SenderIsClient, HttpSniffer.Sniff(start.AsSpan(0, ProtocolMatch.MaxSniffBytes), 16384));
    }

    [Fact]
    public void Every_prefix_of_a_request_or_response_is_undecided_or_right_never_wrong()
    {
        foreach (var (text, sender) in new[] { ("\r\nOPTIONS * HTTP/1.1\r\n\r\n", SniffResult.SenderIsClient), ("HTTP/1.1 204 No Content\r\n\r\n", SniffResult.SenderIsServer) })
        {
            var bytes = Encoding.ASCII.GetBytes(text);
            for (var length = 0; length <= bytes.Length; length++)
            {
                Assert.Contains(HttpSniffer.Sniff(bytes.AsSpan(0, length), 1024), (SniffResult[])[SniffResult.NeedMoreData, sender]);
            }
        }
    }
}
