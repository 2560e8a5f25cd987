using System.Net;
using System.Text;
using Kubebpf.Capture.Capture;
using Kubebpf.Capture.Flows;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;

namespace Kubebpf.Capture.Tests;

public sealed class FlowTrackerTests
{
    internal static readonly IPEndPoint Client = new(IPAddress.Parse("10.0.0.1"), 40000);
    internal static readonly IPEndPoint Server = new(IPAddress.Parse("10.0.0.2"), 7000);

    [Fact]
    public void Requests_and_answers_become_named_exchanges_in_order()
    {
        var harness = new Harness(new LineProtocol());
        harness.Syn(fromClient: true);
        harness.Syn(fromClient: false, ack: true);
        harness.Send(true, "REQ a\nREQ b\n", 1_000);
        harness.Send(false, "OK\n", 3_000);
        harness.Send(false, "ERR\n", 7_000);
        harness.Tracker.OnBatchEnd();

        Assert.Collection(
            harness.Exchanges,
            e => Assert.Equal(("a", 1_000 + Harness.UnixOffset, 2_000L, ExchangeOutcome.Success), (e.Resource, e.StartUnixNs, e.DurationNs, e.Outcome)),
            e => Assert.Equal(("b", 6_000L, ExchangeOutcome.Error), (e.Resource, e.DurationNs, e.Outcome)));
        var first = harness.Exchanges[0];
        Assert.Equal((TrafficDirection.In, Transport.Tcp, "veth-test", "lines"), (first.Direction, first.Transport, first.Interface, first.Protocol.Name));
        Assert.Equal((Client.Port, Server.Port), ((int)first.Client.Port, (int)first.Server.Port));
        Assert.Equal(2, harness.Metrics.Value("exchanges"));
        Assert.Equal(new SniffContext((ushort)Client.Port, (ushort)Server.Port, SenderOpened: true), harness.Protocol.Sniffed.Single());
    }

    [Fact]
    public void A_request_split_at_every_byte_is_seen_once_with_the_time_of_its_first_byte()
    {
        const string request = "REQ some-name\n";
        for (var split = 1; split < request.Length; split++)
        {
            var harness = new Harness(new LineProtocol());
            harness.Send(true, request[..split], 100);
            harness.Send(true, request[split..], 200);
            harness.Send(false, "OK\n", 500);
            harness.Tracker.OnBatchEnd();
            var exchange = Assert.Single(harness.Exchanges);
            Assert.Equal(("some-name", 400L), (exchange.Resource, exchange.DurationNs));
        }
    }

    [Fact]
    public void Retransmitted_bytes_are_skipped_and_new_bytes_after_them_kept()
    {
        var harness = new Harness(new LineProtocol());
        harness.Send(true, "REQ a\n", 100);
        harness.Send(true, "REQ a\n", 150, seq: Harness.ClientSeq);
        harness.Send(true, "REQ a\nREQ b\n", 160, seq: Harness.ClientSeq); // re-segmented: old bytes, then new ones
        harness.Send(false, "OK\nOK\n", 300);
        harness.Tracker.OnBatchEnd();
        Assert.Equal(["a", "b"], harness.Exchanges.Select(e => e.Resource));
        Assert.Equal(2, harness.Metrics.Value("retransmissions"));
    }

    [Fact]
    public void Lost_and_uncaptured_bytes_reach_the_parser_as_gaps()
    {
        var harness = new Harness(new LineProtocol());
        harness.Send(true, "REQ a\n", 100);
        harness.Skip(fromClient: true, 10);
        harness.Send(true, "REQ b\n", 200, payloadLength: 6 + 4);
        var parser = Assert.Single(harness.Protocol.Parsers);
        Assert.Equal([(StreamSide.Client, 10L), (StreamSide.Client, 4L)], parser.Gaps);
        Assert.Equal(1, harness.Metrics.Value("stream_gaps")); // the lost bytes; the uncaptured tail is no loss of the capture
    }

    [Fact]
    public void Unconsumed_bytes_beyond_the_protocols_buffer_are_dropped_counted_and_reported()
    {
        var harness = new Harness(new LineProtocol(maxBufferedBytes: 16));
        harness.Send(true, "REQ a\nREQ 0123456789", 100);
        harness.Send(true, "abcdefghij", 200);
        var parser = Assert.Single(harness.Protocol.Parsers);
        Assert.Equal([(StreamSide.Client, 24L)], parser.Gaps);
        Assert.Equal(1, harness.Metrics.Value("buffer_overflows"));

        // After the loss the stream goes on from the next segment.
        harness.Send(true, "REQ c\n", 300);
        harness.Send(false, "OK\nOK\n", 400);
        harness.Tracker.OnBatchEnd();
        Assert.Equal(["a", "c"], harness.Exchanges.Select(e => e.Resource));
    }

    [Fact]
    public void Kept_bytes_of_all_flows_stay_within_the_budget_and_every_unfinished_message_is_kept_or_dropped_and_counted()
    {
        const int Flows = 1500;
        var harness = new Harness(new LineProtocol(maxBufferedBytes: 4096), new FlowTrackerOptions { KeptBytesBudget = 1 << 20 });
        var clients = Enumerable.Range(0, Flows).Select(i => new IPEndPoint(IPAddress.Parse("10.0.1.1"), 10000 + i)).ToList();

        // 900 unfinished bytes each: a 1 KiB pooled buffer, so 1024 of them fit in 1 MiB.
        foreach (var client in clients)
        {
            harness.Send(true, "REQ " + new string('x', 896), 100, client: client);
        }

        Assert.Equal(1 << 20, harness.Metrics.Value("kept_bytes"));
        Assert.Equal(Flows - 1024, harness.Metrics.Value("kept_bytes_refused"));
        Assert.Equal(Flows - 1024, harness.Protocol.Parsers.Count(p => p.Gaps.Count == 1));

        // A kept message still completes; a dropped one is skipped and the stream goes on.
        harness.Send(true, "\n", 200, client: clients[0]);
        harness.Send(true, "\nREQ after\n", 200, client: clients[^1]);
        harness.Tracker.OnBatchEnd();
        Assert.Equal(1024 - 1, harness.Metrics.Value("kept_bytes") / 1024);
        harness.Tracker.CloseAll(300);
        Assert.Equal(0, harness.Metrics.Value("kept_bytes"));
    }

    [Fact]
    public void A_new_SYN_on_a_used_four_tuple_closes_the_old_connection()
    {
        var harness = new Harness(new LineProtocol());
        harness.Syn(fromClient: true);
        harness.Send(true, "REQ a\n", 100);
        harness.Syn(fromClient: true, seq: 9_000_000); // the client reuses its port
        harness.Send(true, "REQ b\n", 200);
        harness.Send(false, "OK\n", 300);
        harness.Tracker.OnBatchEnd();

        Assert.Equal(2, harness.Protocol.Parsers.Count);
        Assert.Equal(1, harness.Protocol.Parsers[0].Closes);
        Assert.Equal(["b"], harness.Exchanges.Select(e => e.Resource));
    }

    [Fact]
    public void A_server_that_speaks_first_makes_the_other_side_the_client()
    {
        var harness = new Harness(new LineProtocol());
        harness.Send(false, "OK\n", 100);
        harness.Send(true, "REQ a\n", 200);
        harness.Send(false, "OK\n", 300);
        harness.Tracker.OnBatchEnd();
        var exchange = Assert.Single(harness.Exchanges);
        Assert.Equal(Server.Port, exchange.Server.Port);
        Assert.Null(harness.Protocol.Sniffed.Single().SenderOpened);
    }

    [Fact]
    public void Bytes_a_protocol_needs_more_of_are_kept_until_it_decides()
    {
        var harness = new Harness(new LineProtocol());
        harness.Send(true, "RE", 100);
        harness.Send(true, "Q a\n", 150);
        harness.Send(false, "OK\n", 300);
        harness.Tracker.OnBatchEnd();
        var exchange = Assert.Single(harness.Exchanges);
        Assert.Equal(200L, exchange.DurationNs);
    }

    [Fact]
    public void A_long_record_joined_to_kept_bytes_reaches_the_parser_whole()
    {
        var harness = new Harness(new LineProtocol(maxBufferedBytes: 4096));
        var names = string.Concat(Enumerable.Range(0, 200).Select(i => $"REQ n{i}\n"));
        harness.Send(true, "RE", 100);
        harness.Send(true, "Q first\n" + names, 150); // longer than what sniffing keeps
        harness.Send(false, string.Concat(Enumerable.Repeat("OK\n", 201)), 300);
        harness.Tracker.OnBatchEnd();
        Assert.Equal(201, harness.Exchanges.Count);
        Assert.Equal("n199", harness.Exchanges[^1].Resource);
    }

    [Fact]
    public void A_record_that_starts_a_message_is_claimed_even_when_the_bytes_kept_before_it_are_refused()
    {
        var harness = new Harness(new LineProtocol());
        harness.Send(true, "RE", 100);        // could be the start of a request: kept
        harness.Send(true, "REQ a\n", 150);  // "REREQ a" is nothing, "REQ a" is a request
        harness.Send(false, "OK\n", 300);
        harness.Tracker.OnBatchEnd();
        Assert.Equal(("a", 150L), (Assert.Single(harness.Exchanges).Resource, harness.Exchanges[0].DurationNs));
    }

    [Fact]
    public void The_protocol_serving_a_port_is_asked_before_those_that_sniff_every_flow()
    {
        var sniffer = new LineProtocol("sniffer");
        var byPort = new LineProtocol("byport", ports: [(ushort)Server.Port], sniff: false);
        var harness = new Harness([sniffer, byPort]);
        harness.Send(true, "REQ a\n", 100);
        harness.Send(false, "OK\n", 300);
        harness.Tracker.OnBatchEnd();
        Assert.Equal("byport", Assert.Single(harness.Exchanges).Protocol.Name);
        Assert.Empty(sniffer.Sniffed);
    }

    [Fact]
    public void A_connection_no_protocol_claims_is_left_alone_and_counted_once_at_its_end()
    {
        var harness = new Harness(new LineProtocol(), new FlowTrackerOptions { MaxSniffAttempts = 3 });
        for (var i = 0; i < 5; i++)
        {
            harness.Send(true, "\u0016\u0003\u0001 tls?", 100 + i);
        }

        harness.Send(true, "REQ a\n", 200); // too late: the connection was given up
        harness.Fin(fromClient: true);
        harness.Fin(fromClient: false);
        Assert.Equal(3, harness.Protocol.Sniffed.Count);
        Assert.Equal((1L, 0L, 0L), (harness.Metrics.Value("unclassified_flows"), harness.Metrics.Value("late_classified_flows"), harness.Metrics.Value("tracked_flows")));
    }

    [Fact]
    public void A_connection_seen_from_its_start_and_claimed_late_is_a_loss()
    {
        var harness = new Harness(new LineProtocol());
        harness.Syn(fromClient: true);
        harness.Send(true, "garbage\n", 100);
        harness.Send(true, "REQ a\n", 200);
        Assert.Single(harness.Protocol.Parsers);
        Assert.Equal(1, harness.Metrics.Value("late_classified_flows"));

        var unseenStart = new Harness(new LineProtocol());
        unseenStart.Send(true, "garbage\n", 100);
        unseenStart.Send(true, "REQ a\n", 200);
        Assert.Equal(0, unseenStart.Metrics.Value("late_classified_flows"));
    }

    [Fact]
    public void A_client_FIN_keeps_the_connection_until_its_answers_are_in()
    {
        var harness = new Harness(new LineProtocol());
        harness.Send(true, "REQ a\n", 100);
        harness.Fin(fromClient: true);
        Assert.Equal(1, harness.Tracker.TrackedFlows);
        harness.Send(false, "OK\n", 300);
        harness.Fin(fromClient: false);
        harness.Tracker.OnBatchEnd();
        Assert.Single(harness.Exchanges);
        var parser = Assert.Single(harness.Protocol.Parsers);
        Assert.Equal([StreamSide.Client, StreamSide.Server], parser.Fins);
        Assert.Equal(1, parser.Closes);
        Assert.Equal(0, harness.Tracker.TrackedFlows);
    }

    [Fact]
    public void Bytes_retransmitted_after_the_connection_closed_do_not_start_a_connection_seen_mid_stream()
    {
        // The server's FIN closes the flow; its answers, sent again because the client's ACK was slow (a tail loss
        // probe on a busy host), must not become a second connection whose answers have no requests.
        var harness = new Harness(new LineProtocol());
        harness.Syn(fromClient: true);
        harness.Syn(fromClient: false, ack: true);
        harness.Send(true, "REQ a\nREQ b\n", 100);
        harness.Send(false, "OK\nOK\n", 200);
        harness.Fin(fromClient: false);
        Assert.Equal(0, harness.Tracker.TrackedFlows);

        harness.Send(false, "OK\n", 300, seq: Harness.ServerSeq + 3); // the tail
        harness.Send(false, "OK\nOK\n", 400, seq: Harness.ServerSeq); // all of it
        harness.Send(true, "REQ b\n", 450, seq: Harness.ClientSeq + 6);
        harness.Tracker.OnBatchEnd();

        Assert.Equal(["a", "b"], harness.Exchanges.Select(e => e.Resource));
        Assert.Single(harness.Protocol.Parsers);
        Assert.Equal(0, harness.Tracker.TrackedFlows);
        Assert.Equal(3, harness.Metrics.Value("retransmissions"));
    }

    [Fact]
    public void A_connection_seen_mid_stream_on_a_closed_connections_four_tuple_is_still_tracked()
    {
        // The closed connection's sequence numbers only recognise its own bytes: a later connection on the same
        // addresses and ports, whose SYN was missed, starts far from them and is tracked as usual.
        var harness = new Harness(new LineProtocol());
        harness.Syn(fromClient: true);
        harness.Syn(fromClient: false, ack: true);
        harness.Send(true, "REQ a\n", 100);
        harness.Send(false, "OK\n", 200);
        harness.Fin(fromClient: false);

        harness.Send(true, "REQ b\n", 300, seq: Harness.ClientSeq + 2_000_000_000);
        harness.Send(false, "OK\n", 400, seq: Harness.ServerSeq + 3_000_000_000); // behind the old bytes in sequence space, but far
        harness.Tracker.OnBatchEnd();

        Assert.Equal(["a", "b"], harness.Exchanges.Select(e => e.Resource));
        Assert.Equal(0, harness.Metrics.Value("retransmissions"));
    }

    [Fact]
    public void A_parser_that_throws_disables_its_protocol_and_the_others_go_on()
    {
        var broken = new LineProtocol("broken", ports: [7001], sniff: false);
        var healthy = new LineProtocol("healthy", ports: [(ushort)Server.Port], sniff: false);
        var harness = new Harness([broken, healthy]);
        broken.Throw = true;
        harness.Send(true, "REQ a\n", 100, server: new IPEndPoint(Server.Address, 7001));
        harness.Send(true, "REQ b\n", 200, server: new IPEndPoint(Server.Address, 7001));
        harness.Send(true, "REQ c\n", 300);
        harness.Send(false, "OK\n", 400);
        harness.Tracker.OnBatchEnd();

        Assert.Equal(1, harness.Failures.Count(f => f.Instance == "broken"));
        Assert.Equal(1, harness.Metrics.Value("parser_failures"));
        Assert.Equal("c", Assert.Single(harness.Exchanges).Resource);
    }

    [Fact]
    public void Beyond_MaxFlows_the_least_recent_flow_is_closed_and_counted()
    {
        var harness = new Harness(new LineProtocol(), new FlowTrackerOptions { MaxFlows = 16 });
        for (var i = 0; i < 17; i++)
        {
            harness.Send(true, "REQ a\n", 100 + i, client: new IPEndPoint(Client.Address, 30000 + i));
        }

        Assert.Equal((16, 1L), (harness.Tracker.TrackedFlows, harness.Metrics.Value("evicted_flows")));
        Assert.Equal(1, harness.Protocol.Parsers[0].Closes);
    }

    [Fact]
    public void Idle_connections_are_closed_at_a_tick()
    {
        var harness = new Harness(new LineProtocol(), new FlowTrackerOptions { IdleTimeout = TimeSpan.FromSeconds(1) });
        harness.Send(true, "REQ a\n", 0);
        harness.Tracker.Tick(500_000_000);
        Assert.Equal(1, harness.Tracker.TrackedFlows);
        harness.Tracker.Tick(1_000_000_000);
        Assert.Equal((0, 1L), (harness.Tracker.TrackedFlows, harness.Metrics.Value("idle_flows")));
        Assert.Equal(1, harness.Protocol.Parsers[0].Closes);
    }

    [Fact]
    public void Datagram_flows_pair_answers_time_out_requests_and_keep_no_state_for_unknown_datagrams()
    {
        var ping = new PingProtocol((ushort)Server.Port);
        var harness = new Harness([], [ping], new FlowTrackerOptions { DatagramIdleTimeout = TimeSpan.FromSeconds(1) });
        harness.Datagram(true, "PING one", 100);
        harness.Datagram(false, "PONG", 600);
        harness.Datagram(true, "PING two", 1_000);
        harness.Datagram(true, "random bytes", 1_000, server: new IPEndPoint(Server.Address, 9999));
        Assert.Equal((1, 1L), (harness.Tracker.TrackedFlows, harness.Metrics.Value("unclassified_datagrams")));

        harness.Tracker.Tick(1_500_000_000); // "two" is overdue: a timeout; the flow has nothing pending now
        harness.Tracker.Tick(3_000_000_000);
        Assert.Collection(
            harness.Exchanges,
            e => Assert.Equal(("one", 500L, ExchangeOutcome.Success, Transport.Udp), (e.Resource, e.DurationNs, e.Outcome, e.Transport)),
            e => Assert.Equal(("two", ExchangeOutcome.Timeout), (e.Resource, e.Outcome)));
        Assert.Equal(0, harness.Tracker.TrackedFlows);
        Assert.Equal(1, ping.Parsers.Single().Closes);
        var first = harness.Exchanges[0];
        Assert.Equal(new FlowIdentity(first.Client, first.Server, first.Interface, first.Direction), ping.Parsers.Single().Output.Flow);
    }

    /// <summary>A tracker with the given protocols, fed like the capture feeds it, one client and one server by default.</summary>
    internal sealed class Harness
    {
        public const long UnixOffset = 1_700_000_000_000_000_000;
        public const uint ClientSeq = 1000;
        public const uint ServerSeq = 500_000;
        private readonly Dictionary<(IPEndPoint, IPEndPoint), uint> _next = [];

        public Harness(LineProtocol protocol, FlowTrackerOptions? options = null)
            : this([protocol], [], options)
        {
        }

        public Harness(IReadOnlyList<LineProtocol> stream, IReadOnlyList<PingProtocol>? datagram = null, FlowTrackerOptions? options = null)
        {
            Protocol = stream.FirstOrDefault()!;
            Tracker = new FlowTracker(
                options ?? new FlowTrackerOptions(),
                Metrics,
                [.. stream.Select(p => new ProtocolRegistration<IStreamProtocol>(p, p.Descriptor.Name, ex => Failures.Add((p.Descriptor.Name, ex))))],
                [.. (datagram ?? []).Select(p => new ProtocolRegistration<IDatagramProtocol>(p, p.Descriptor.Name, ex => Failures.Add((p.Descriptor.Name, ex))))],
                resolver: null,
                batch => Exchanges.AddRange(batch.ToArray()),
                batch => Reports.AddRange(batch.ToArray()),
                () => WantsConnections)
            {
                MonotonicToUnixOffsetNs = UnixOffset,
            };
        }

        public LineProtocol Protocol { get; }

        public TestAgentMetrics Metrics { get; } = new();

        public FlowTracker Tracker { get; }

        public List<Exchange> Exchanges { get; } = [];

        public List<TcpConnectionReport> Reports { get; } = [];

        /// <summary>What the connection publisher answers when asked whether anyone subscribes.</summary>
        public bool WantsConnections { get; set; } = true;

        public List<(string Instance, Exception Error)> Failures { get; } = [];

        public void Syn(bool fromClient, bool ack = false, uint? seq = null, long timestampNs = 0)
        {
            var (source, destination) = fromClient ? (Client, Server) : (Server, Client);
            var start = seq ?? (fromClient ? ClientSeq : ServerSeq) - 1;
            _next[(source, destination)] = start + 1;
            var flags = (byte)(PacketHeader.Syn | (ack ? PacketHeader.Ack : 0));
            Tracker.OnPacket(PacketFactory.Tcp(source, destination, start, 0, flags: flags, timestampNs: timestampNs), [], towardsEndpoint: fromClient, "veth-test");
        }

        /// <summary>A RST (with ACK, as a closed port answers a SYN).</summary>
        public void Rst(bool fromClient, long timestampNs = 0)
        {
            var (source, destination) = fromClient ? (Client, Server) : (Server, Client);
            var flags = (byte)(PacketHeader.Rst | PacketHeader.Ack);
            Tracker.OnPacket(PacketFactory.Tcp(source, destination, Next(source, destination, fromClient), 0, flags: flags, timestampNs: timestampNs), [], fromClient, "veth-test");
        }

        public void Send(bool fromClient, string text, long timestampNs, uint? seq = null, int? payloadLength = null, IPEndPoint? client = null, IPEndPoint? server = null)
        {
            var (source, destination) = fromClient ? (client ?? Client, server ?? Server) : (server ?? Server, client ?? Client);
            var bytes = Encoding.ASCII.GetBytes(text);
            var length = payloadLength ?? bytes.Length;
            var start = seq ?? Next(source, destination, fromClient);
            if (seq is null)
            {
                _next[(source, destination)] = start + (uint)length;
            }

            Tracker.OnPacket(PacketFactory.Tcp(source, destination, start, bytes.Length, length, timestampNs: timestampNs), bytes, towardsEndpoint: fromClient, "veth-test");
        }

        /// <summary>Bytes the capture never saw: the next segment starts after them.</summary>
        public void Skip(bool fromClient, int bytes)
        {
            var (source, destination) = fromClient ? (Client, Server) : (Server, Client);
            _next[(source, destination)] = Next(source, destination, fromClient) + (uint)bytes;
        }

        public void Fin(bool fromClient)
        {
            var (source, destination) = fromClient ? (Client, Server) : (Server, Client);
            Tracker.OnPacket(PacketFactory.Tcp(source, destination, Next(source, destination, fromClient), 0, flags: PacketHeader.Fin), [], fromClient, "veth-test");
        }

        public void Datagram(bool fromClient, string text, long timestampNs, IPEndPoint? server = null)
        {
            var (source, destination) = fromClient ? (Client, server ?? Server) : (server ?? Server, Client);
            var bytes = Encoding.ASCII.GetBytes(text);
            Tracker.OnPacket(PacketFactory.Udp(source, destination, bytes.Length, timestampNs: timestampNs), bytes, fromClient, "veth-test");
        }

        private uint Next(IPEndPoint source, IPEndPoint destination, bool fromClient) =>
            _next.TryGetValue((source, destination), out var next) ? next : fromClient ? ClientSeq : ServerSeq;
    }
}
