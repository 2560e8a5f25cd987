using System.Net;
using Kubebpf.Http.Capture;
using Kubebpf.Http.Tracking;
using Kubebpf.Sdk.Events;
using Kubebpf.Testing;

namespace Kubebpf.Http.Tests;

/// <summary>
/// Drives a tracker with the segments of TCP connections between clients and one server, keeping sequence numbers the
/// way TCP does. The observed workload is the server unless <see cref="ObserveClient"/> is set.
/// </summary>
internal sealed class Conversation
{
    private readonly Dictionary<(int Connection, bool FromClient), uint> _nextSeq = [];

    public Conversation(HttpTrackerOptions? options = null, bool ipv6 = false, IExchangeNamer? namer = null)
    {
        Options = options ?? new HttpTrackerOptions();
        IPv6 = ipv6;
        Tracker = new HttpConnectionTracker(Options, Metrics, monotonicToUnixOffsetNs: 0, namer);
    }

    public HttpTrackerOptions Options { get; }
    public TestAgentMetrics Metrics { get; } = new();
    public HttpConnectionTracker Tracker { get; }
    public List<HttpExchange> Exchanges { get; } = [];
    public bool IPv6 { get; }
    public bool ObserveClient { get; set; }
    public uint ClientInitialSeq { get; set; } = 1000;
    public uint ServerInitialSeq { get; set; } = 500000;

    /// <summary>Sends one segment. <paramref name="payloadLength"/> beyond the bytes given means they were not captured.</summary>
    public void Send(
        bool fromClient, ReadOnlySpan<byte> captured, long timestampNs, int connection = 1,
        uint? seq = null, int? payloadLength = null, byte flags = 0)
    {
        var length = payloadLength ?? captured.Length;
        var key = (connection, fromClient);
        var expected = _nextSeq.TryGetValue(key, out var next) ? next : fromClient ? ClientInitialSeq : ServerInitialSeq;
        var start = seq ?? expected;
        if ((int)(start - expected) >= 0)
        {
            _nextSeq[key] = start + (uint)length;
        }

        var header = new SegmentHeader
        {
            TimestampNs = (ulong)timestampNs,
            IfIndex = 7,
            Seq = start,
            Ack = 0,
            PayloadLength = (uint)length,
            CapturedLength = (ushort)captured.Length,
            Family = IPv6 ? (byte)6 : (byte)4,
            TcpFlags = flags,
            SourcePort = fromClient ? ClientPort(connection) : ServerPort,
            DestinationPort = fromClient ? ServerPort : ClientPort(connection),
        };
        var (source, destination) = fromClient ? (ClientAddress(connection), ServerAddress) : (ServerAddress, ClientAddress(connection));
        source.CopyTo(header.SourceAddress);
        destination.CopyTo(header.DestinationAddress);
        Tracker.OnSegment(header, captured, towardsEndpoint: fromClient != ObserveClient, Exchanges);
    }

    public const ushort ServerPort = 8080;

    public static ushort ClientPort(int connection) => (ushort)(40000 + connection);

    private byte[] ServerAddress => Address(IPv6 ? "fd00::2" : "10.0.0.2");

    private byte[] ClientAddress(int connection) => Address(IPv6 ? $"fd00::1:{connection}" : $"10.0.1.{connection}");

    private static byte[] Address(string text)
    {
        var bytes = new byte[16];
        IPAddress.Parse(text).GetAddressBytes().CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>One line per exchange, then the non-zero counters: what golden files hold.</summary>
    public string Render()
    {
        var lines = Exchanges.Select(Render).ToList();
        string[] counters =
        [
            "exchanges", "desyncs", "unmatched_responses", "unanswered_requests", "evicted_connections", "oversized_heads",
            "invalid_heads", "pipeline_overflow", "retransmissions", "non_http_connections", "tracked_connections",
        ];
        lines.Add("counters:" + string.Concat(counters.Where(c => Metrics.Value(c) != 0).Select(c => $" {c}={Metrics.Value(c)}")));
        return string.Join('\n', lines);
    }

    public static string Render(HttpExchange e) =>
        $"{e.Direction} {e.Method} {e.Path}{(e.Query is null ? "" : "?" + e.Query)} {e.Version} host={e.Host ?? "-"} status={e.Status}"
        + $" start={e.StartUnixNs} duration={e.DurationNs} req={e.RequestBodyBytes} resp={e.ResponseBodyBytes} {e.Client}->{e.Server}";
}
