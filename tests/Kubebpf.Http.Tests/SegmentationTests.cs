using System.Text;
using FsCheck.Xunit;

namespace Kubebpf.Http.Tests;

/// <summary>However TCP cuts a stream into segments, the tracker must see the same exchanges.</summary>
public class SegmentationTests
{
    private static readonly byte[] Request =
        Encoding.ASCII.GetBytes("POST /submit?x=1 HTTP/1.1\r\nHost: example\r\nContent-Length: 5\r\n\r\nhello");

    private static readonly byte[] Response = Encoding.ASCII.GetBytes(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n");

    private const string Expected =
        "In POST /submit HTTP/1.1 host=example status=200 start=100 duration=400 req=5 resp=11 10.0.1.1:40001->10.0.0.2:8080\n"
        + "counters: exchanges=1 tracked_flows=1";

    [Fact]
    public void Unsplit_exchange_is_the_reference()
    {
        Assert.Equal(Expected, Run([Request], [Response]));
    }

    [Fact]
    public void Split_in_two_at_every_offset()
    {
        for (var i = 1; i < Request.Length; i++)
        {
            Assert.Equal(Expected, Run([Request[..i], Request[i..]], [Response]));
        }

        for (var i = 1; i < Response.Length; i++)
        {
            Assert.Equal(Expected, Run([Request], [Response[..i], Response[i..]]));
        }
    }

    [Fact]
    public void Split_in_three_at_every_pair_of_offsets()
    {
        for (var i = 1; i < Request.Length; i++)
        {
            for (var j = i + 1; j < Request.Length; j++)
            {
                Assert.Equal(Expected, Run([Request[..i], Request[i..j], Request[j..]], [Response]));
            }
        }

        for (var i = 1; i < Response.Length; i++)
        {
            for (var j = i + 1; j < Response.Length; j++)
            {
                Assert.Equal(Expected, Run([Request], [Response[..i], Response[i..j], Response[j..]]));
            }
        }
    }

    [Property(MaxTest = 300)]
    public void Random_segmentation_of_a_pipelined_stream_yields_the_same_exchanges(int[] clientCuts, int[] serverCuts)
    {
        var requests = Encoding.ASCII.GetBytes(
            "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
            + "PUT /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            + "HEAD /c HTTP/1.1\r\nHost: h\r\n\r\n");
        var responses = Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd"
            + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
        var conversation = new Conversation();
        long t = 0;
        foreach (var part in Chop(requests, clientCuts))
        {
            conversation.Send(fromClient: true, part, t++);
        }

        foreach (var part in Chop(responses, serverCuts))
        {
            conversation.Send(fromClient: false, part, t++);
        }

        var actual = conversation.Exchanges
            .Select(e => Conversation.Render(e with { StartUnixNs = 0, DurationNs = 0 }))
            .ToList();
        const string Endpoints = "10.0.1.1:40001->10.0.0.2:8080";
        Assert.Equal(
            [
                $"In GET /a HTTP/1.1 host=h status=200 start=0 duration=0 req=0 resp=4 {Endpoints}",
                $"In PUT /b HTTP/1.1 host=h status=201 start=0 duration=0 req=3 resp=2 {Endpoints}",
                $"In HEAD /c HTTP/1.1 host=h status=200 start=0 duration=0 req=0 resp=0 {Endpoints}",
            ],
            actual);
        Assert.Equal(0, conversation.Metrics.Value("desyncs") + conversation.Metrics.Value("unmatched_responses"));
    }

    private static string Run(byte[][] requestParts, byte[][] responseParts)
    {
        var conversation = new Conversation();
        long t = 100;
        foreach (var part in requestParts)
        {
            conversation.Send(fromClient: true, part, t++);
        }

        t = 500;
        foreach (var part in responseParts)
        {
            conversation.Send(fromClient: false, part, t++);
        }

        return conversation.Render();
    }

    /// <summary>Cuts <paramref name="stream"/> into segments of 1-40 bytes chosen by <paramref name="cuts"/>, cyclically.</summary>
    private static List<byte[]> Chop(byte[] stream, int[] cuts)
    {
        var parts = new List<byte[]>();
        for (int offset = 0, i = 0; offset < stream.Length; i++)
        {
            var size = cuts.Length == 0 ? stream.Length : 1 + (int)((uint)cuts[i % cuts.Length] % 40);
            size = Math.Min(size, stream.Length - offset);
            parts.Add(stream[offset..(offset + size)]);
            offset += size;
        }

        return parts;
    }
}
