using Kubebpf.Http.Tracking;
using Kubebpf.Sdk.Events;

namespace Kubebpf.Http.Tests;

public class TrackerTests
{
    [Fact]
    public void Start_time_is_shifted_to_unix_time_and_latency_keeps_64_bits()
    {
        var conversation = new Conversation();
        conversation.Tracker.MonotonicToUnixOffsetNs = 1_700_000_000_000_000_000;
        conversation.Send(fromClient: true, "GET /slow HTTP/1.1\r\n\r\n"u8, timestampNs: 1_000);
        conversation.Send(fromClient: false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8, timestampNs: 1_000 + 9_000_000_000);

        var exchange = Assert.Single(conversation.Exchanges);
        Assert.Equal(1_700_000_000_000_001_000, exchange.StartUnixNs);
        Assert.Equal(9_000_000_000, exchange.DurationNs);
        Assert.Equal(TrafficDirection.In, exchange.Direction);
        Assert.Equal(string.Empty, exchange.Interface);
        Assert.Null(exchange.Query);
    }

    [Fact]
    public void Evict_idle_returns_the_number_evicted_and_keeps_the_gauge()
    {
        var conversation = new Conversation(new HttpTrackerOptions { IdleTimeout = TimeSpan.FromSeconds(60) });
        conversation.Send(fromClient: true, "GET /a HTTP/1.1\r\n\r\n"u8, timestampNs: 0, connection: 1);
        conversation.Send(fromClient: true, "GET /b HTTP/1.1\r\n\r\n"u8, timestampNs: 30_000_000_000, connection: 2);

        Assert.Equal(2, conversation.Metrics.Value("tracked_connections"));
        Assert.Equal(1, conversation.Tracker.EvictIdle(60_000_000_000, conversation.Exchanges));
        Assert.Equal(1, conversation.Metrics.Value("tracked_connections"));
        Assert.Equal(1, conversation.Metrics.Value("evicted_connections"));
        Assert.Equal(1, conversation.Metrics.Value("unanswered_requests"));
        Assert.Empty(conversation.Exchanges);
    }

    [Fact]
    public void Payload_longer_than_payload_length_is_cut_and_empty_segments_of_unknown_connections_are_ignored()
    {
        var conversation = new Conversation();
        conversation.Send(fromClient: true, "GET /x HTTP/1.1\r\n\r\nJUNK"u8, timestampNs: 0, payloadLength: 19);
        conversation.Send(fromClient: false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8, timestampNs: 5);
        conversation.Send(fromClient: true, [], timestampNs: 6, connection: 9, flags: Kubebpf.Http.Capture.SegmentHeader.Fin);

        Assert.Equal(
            "In GET /x HTTP/1.1 host=- status=200 start=0 duration=5 req=0 resp=0 10.0.1.1:40001->10.0.0.2:8080\n"
            + "counters: exchanges=1 tracked_connections=1",
            conversation.Render());
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(1234);
        var conversation = new Conversation(new HttpTrackerOptions { MaxConnections = 8, MaxHeadBytes = 64 });
        var buffer = new byte[300];
        for (var i = 0; i < 20_000; i++)
        {
            random.NextBytes(buffer);
            var length = random.Next(buffer.Length);
            if (random.Next(4) == 0)
            {
                "GET / HTTP/1.1\r\n"u8.CopyTo(buffer);
            }

            conversation.Send(
                fromClient: random.Next(2) == 0, buffer.AsSpan(0, length), timestampNs: i, connection: random.Next(12),
                seq: (uint)random.Next(), payloadLength: length + random.Next(3) * random.Next(70000), flags: (byte)random.Next(8));
        }

        Assert.InRange(conversation.Tracker.TrackedConnections, 0, 8);
    }
}
