using Kubebpf.Capture.Flows;
using Kubebpf.Sdk.Events;
using Harness = Kubebpf.Capture.Tests.FlowTrackerTests.Harness;

namespace Kubebpf.Capture.Tests;

/// <summary>The connection layer: one report per handshake outcome, byte deltas that add up, and one at the end.</summary>
public sealed class ConnectionReportTests
{
    private const long Ms = 1_000_000;

    [Fact]
    public void A_connection_is_reported_once_at_its_end_with_its_handshake_time_and_bytes_each_way()
    {
        var harness = new Harness(new LineProtocol());
        harness.Syn(fromClient: true, timestampNs: 10 * Ms);
        harness.Syn(fromClient: false, ack: true, timestampNs: 13 * Ms);
        harness.Send(true, "REQ a\n", 14 * Ms);
        harness.Send(false, "OK\n", 15 * Ms);
        harness.Fin(fromClient: true);
        harness.Fin(fromClient: false);
        harness.Tracker.OnBatchEnd();

        var report = Assert.Single(harness.Reports);
        Assert.Equal(
            (true, true, true, false, false, 3 * Ms, 6L, 3L, TrafficDirection.In),
            (report.Opened, report.Closed, report.Connected, report.Refused, report.TimedOut, report.ConnectTimeNs, report.ClientBytes, report.ServerBytes, report.Direction));
        Assert.Equal(((int)FlowTrackerTests.Client.Port, (int)FlowTrackerTests.Server.Port), ((int)report.Client.Port, (int)report.Server.Port));
        Assert.Equal("veth-test", report.Interface);
    }

    [Fact]
    public void No_report_is_made_while_nobody_subscribes_and_the_next_connection_is_reported_whole_once_someone_does()
    {
        var harness = new Harness(new LineProtocol()) { WantsConnections = false };
        Connect(harness, seq: 1000);
        Assert.Empty(harness.Reports);

        harness.WantsConnections = true;
        Connect(harness, seq: 90_000); // the same 4-tuple again, after the first one closed
        var report = Assert.Single(harness.Reports);
        Assert.Equal((true, true, true, 6L, 3L), (report.Opened, report.Closed, report.Connected, report.ClientBytes, report.ServerBytes));

        static void Connect(Harness harness, uint seq)
        {
            harness.Syn(fromClient: true, seq: seq, timestampNs: seq * Ms);
            harness.Syn(fromClient: false, ack: true, seq: seq + 7, timestampNs: (seq + 1) * Ms);
            harness.Send(true, "REQ a\n", (seq + 2) * Ms);
            harness.Send(false, "OK\n", (seq + 3) * Ms);
            harness.Fin(fromClient: true);
            harness.Fin(fromClient: false);
            harness.Tracker.OnBatchEnd();
        }
    }

    [Fact]
    public void A_RST_answering_the_SYN_is_a_refused_connect()
    {
        var harness = new Harness(new LineProtocol());
        harness.Syn(fromClient: true, timestampNs: Ms);
        harness.Rst(fromClient: false, timestampNs: 2 * Ms);
        harness.Tracker.OnBatchEnd();

        var report = Assert.Single(harness.Reports);
        Assert.Equal((true, true, false, true, false), (report.Opened, report.Closed, report.Connected, report.Refused, report.TimedOut));
        Assert.Equal(0, harness.Tracker.TrackedFlows);
    }

    [Fact]
    public void A_storm_of_RSTs_for_connections_not_tracked_keeps_no_state_and_is_counted()
    {
        var harness = new Harness(new LineProtocol());
        for (var i = 0; i < 10_000; i++)
        {
            harness.Rst(fromClient: i % 2 == 0, timestampNs: i);
        }

        harness.Tracker.OnBatchEnd();
        Assert.Equal((0, 10_000L), (harness.Tracker.TrackedFlows, harness.Metrics.Value("untracked_fin_rst")));
        Assert.Empty(harness.Reports);
    }

    [Fact]
    public void A_client_RST_after_the_handshake_is_no_refused_connect()
    {
        var harness = new Harness(new LineProtocol());
        harness.Syn(fromClient: true, timestampNs: Ms);
        harness.Syn(fromClient: false, ack: true, timestampNs: 2 * Ms);
        harness.Rst(fromClient: true, timestampNs: 3 * Ms);
        harness.Tracker.OnBatchEnd();

        var report = Assert.Single(harness.Reports);
        Assert.Equal((true, false), (report.Connected, report.Refused));
    }

    [Fact]
    public void An_unanswered_SYN_times_out_once_whatever_its_retransmissions_and_then_closes_silently()
    {
        var options = new FlowTrackerOptions { HandshakeTimeout = TimeSpan.FromSeconds(2), IdleTimeout = TimeSpan.FromSeconds(5) };
        var harness = new Harness(new LineProtocol(), options);
        harness.Syn(fromClient: true, timestampNs: 1_000 * Ms);
        harness.Tracker.Tick(2_900 * Ms);
        Assert.Empty(harness.Reports);

        harness.Syn(fromClient: true, timestampNs: 2_000 * Ms); // the kernel's retry: the same SYN
        harness.Tracker.Tick(3_000 * Ms);
        var timedOut = Assert.Single(harness.Reports);
        Assert.Equal((true, false, true, false), (timedOut.Opened, timedOut.Closed, timedOut.TimedOut, timedOut.Connected));

        harness.Syn(fromClient: true, timestampNs: 4_000 * Ms);
        harness.Tracker.Tick(5_000 * Ms);
        Assert.Single(harness.Reports);

        harness.Tracker.Tick(9_000 * Ms); // idle
        Assert.Equal(2, harness.Reports.Count);
        Assert.Equal((false, true, false), (harness.Reports[1].Opened, harness.Reports[1].Closed, harness.Reports[1].TimedOut));
    }

    [Fact]
    public void A_new_attempt_from_the_same_port_after_an_unanswered_SYN_times_the_first_one_out()
    {
        var harness = new Harness(new LineProtocol());
        harness.Syn(fromClient: true, timestampNs: 1_000 * Ms);
        harness.Syn(fromClient: true, seq: 7_000_000, timestampNs: 2_000 * Ms); // the client closed and reconnected
        harness.Tracker.OnBatchEnd();

        var first = Assert.Single(harness.Reports);
        Assert.Equal((true, true, true), (first.Opened, first.Closed, first.TimedOut));
        Assert.Equal(1, harness.Tracker.TrackedFlows);
    }

    [Fact]
    public void A_long_connection_reports_deltas_that_add_up_and_retransmissions_per_side()
    {
        var options = new FlowTrackerOptions { ConnectionReportInterval = TimeSpan.FromSeconds(5) };
        var harness = new Harness(new LineProtocol(), options);
        harness.Syn(fromClient: true, timestampNs: 1_000 * Ms);
        harness.Syn(fromClient: false, ack: true, timestampNs: 1_001 * Ms);
        harness.Tracker.Tick(1_500 * Ms); // the handshake is reported at once
        harness.Send(true, "REQ a\n", 2_000 * Ms);
        harness.Send(true, "REQ a\n", 2_100 * Ms, seq: Harness.ClientSeq); // retransmitted: not new bytes
        harness.Send(false, "OK\n", 2_200 * Ms);
        harness.Tracker.Tick(3_000 * Ms); // bytes, but the interval has not passed
        harness.Tracker.Tick(6_600 * Ms);
        harness.Send(true, "REQ bb\n", 7_000 * Ms);
        harness.Tracker.Tick(8_000 * Ms);
        harness.Tracker.CloseAll(9_000 * Ms);

        Assert.Equal(3, harness.Reports.Count);
        Assert.Equal((true, true, 1 * Ms, 0L), (harness.Reports[0].Opened, harness.Reports[0].Connected, harness.Reports[0].ConnectTimeNs, harness.Reports[0].ClientBytes));
        Assert.Equal((6L, 3L, 1, 0, false), (harness.Reports[1].ClientBytes, harness.Reports[1].ServerBytes, harness.Reports[1].ClientRetransmissions, harness.Reports[1].ServerRetransmissions, harness.Reports[1].Connected));
        Assert.Equal((7L, 0L, true), (harness.Reports[2].ClientBytes, harness.Reports[2].ServerBytes, harness.Reports[2].Closed));
        Assert.Equal(1, harness.Reports.Count(r => r.Opened));
        Assert.Equal(Harness.UnixOffset + 9_000 * Ms, harness.Reports[2].ReportUnixNs);
    }

    [Fact]
    public void A_connection_seen_mid_stream_names_the_ephemeral_port_its_client()
    {
        var harness = new Harness(new LineProtocol());
        harness.Send(false, "\u0001\u0002binary", 100);
        harness.Tracker.CloseAll(200);

        var report = Assert.Single(harness.Reports);
        Assert.Equal(((int)FlowTrackerTests.Client.Port, 8L, false), ((int)report.Client.Port, report.ServerBytes, report.Connected));
    }
}
