using System.Net;
using Kubebpf.Capture.Flows;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;

namespace Kubebpf.Http.Tests;

/// <summary>
/// Drives the capture's real flow tracker, with HTTP as its only protocol, with the segments of TCP connections
/// between clients and one server, keeping sequence numbers the way TCP does. The observed workload is the server
/// unless <see cref="ObserveClient"/> is set.
/// </summary>
internal sealed class Conversation
{
    public const ushort ServerPort = 8080;

    private readonly Dictionary<(int Connection, bool FromClient), uint> _nextSeq = [];

    public Conversation(HttpOptions? http = null, FlowTrackerOptions? capture = null, bool ipv6 = false)
    {
        IPv6 = ipv6;
        var protocol = new HttpProtocol(http ?? new HttpOptions(), Metrics);
        Tracker = new FlowTracker(
            capture ?? new FlowTrackerOptions(),
            CaptureMetrics,
            [new ProtocolRegistration<IStreamProtocol>(protocol, "Http", ex => Failures.Add(ex))],
            [],
            resolver: null,
            batch => Exchanges.AddRange(batch));
    }

    /// <summary>The HTTP instance's counters.</summary>
    public TestAgentMetrics Metrics { get; } = new();

    /// <summary>The capture's counters (its <c>exchanges</c> would clash with HTTP's in one set).</summary>
    public TestAgentMetrics CaptureMetrics { get; } = new();

    public FlowTracker Tracker { get; }

    public List<Exchange> Exchanges { get; } = [];

    public List<Exception> Failures { get; } = [];

    public bool IPv6 { get; }

    public bool ObserveClient { get; set; }

    public uint ClientInitialSeq { get; set; } = 1000;

    public uint ServerInitialSeq { get; set; } = 500000;

    public static ushort ClientPort(int connection) => (ushort)(40000 + connection);

    /// <summary>Sends one segment as one batch. <paramref name="payloadLength"/> beyond the bytes given means they were not captured.</summary>
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

        var (client, server) = (ClientEndpoint(connection), ServerEndpoint);
        var header = fromClient
            ? PacketFactory.Tcp(client, server, start, captured.Length, length, flags, timestampNs)
            : PacketFactory.Tcp(server, client, start, captured.Length, length, flags, timestampNs);
        Tracker.OnPacket(header, captured, towardsEndpoint: fromClient != ObserveClient, "if-test");
        Tracker.OnBatchEnd();
    }

    /// <summary>The capture's counters a golden file shows after HTTP's.</summary>
    public static readonly string[] CaptureCounters =
        ["retransmissions", "stream_gaps", "buffer_overflows", "unclassified_flows", "late_classified_flows", "idle_flows", "evicted_flows", "tracked_flows"];

    /// <summary>One line per exchange, then the non-zero counters (HTTP's, then the capture's): what golden files hold.</summary>
    public string Render()
    {
        Assert.Empty(Failures);
        var lines = Exchanges.Select(Render).ToList();
        var capture = string.Concat(CaptureCounters.Where(c => CaptureMetrics.Value(c) != 0).Select(c => $" {c}={CaptureMetrics.Value(c)}"));
        lines.Add(StreamDriver.RenderCounters(Metrics) + capture);
        return string.Join('\n', lines);
    }

    public static string Render(Exchange e)
    {
        var details = (HttpDetails)e.Details!;
        return $"{e.Direction} {e.Operation} {e.Resource}{(details.Query is null ? "" : "?" + details.Query)} {details.Version} host={details.Host ?? "-"} status={e.Code}"
            + $" start={e.StartUnixNs} duration={e.DurationNs} req={e.RequestBytes} resp={e.ResponseBytes} {e.Client}->{e.Server}";
    }

    private IPEndPoint ServerEndpoint => new(IPAddress.Parse(IPv6 ? "fd00::2" : "10.0.0.2"), ServerPort);

    private IPEndPoint ClientEndpoint(int connection) =>
        new(IPAddress.Parse(IPv6 ? $"fd00::1:{connection}" : $"10.0.1.{connection}"), ClientPort(connection));
}
