using System.Net;
using FsCheck.Xunit;
using Kubebpf.Capture.Capture;
using Kubebpf.Capture.Flows;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;

namespace Kubebpf.Capture.Tests;

/// <summary>Whatever arrives, the tracker never throws, stays within its bounds and hands parsers only valid spans.</summary>
public sealed class FlowTrackerPropertyTests
{
    private const int MaxFlows = 16;

    [Property(MaxTest = 300)]
    public void Arbitrary_packets_never_throw_and_keep_every_bound((byte Client, byte Server, bool FromClient, bool Udp, uint Seq, byte Flags, byte[] Payload, ushort Extra)[] packets)
    {
        var protocol = new LineProtocol(maxBufferedBytes: 32);
        var ping = new PingProtocol(7000);
        var metrics = new TestAgentMetrics();
        var failures = 0;
        var tracker = new FlowTracker(
            new FlowTrackerOptions { MaxFlows = MaxFlows, MaxSniffAttempts = 2 },
            metrics,
            [new ProtocolRegistration<IStreamProtocol>(protocol, "lines", _ => failures++)],
            [new ProtocolRegistration<IDatagramProtocol>(ping, "ping", _ => failures++)],
            resolver: null,
            _ => { });
        var now = 0L;
        foreach (var (client, server, fromClient, udp, seq, flags, payload, extra) in packets ?? [])
        {
            var clientEnd = new IPEndPoint(IPAddress.Parse($"10.0.0.{client % 24}"), 40000 + (client % 3));
            var serverEnd = new IPEndPoint(IPAddress.Parse($"10.0.1.{server % 3}"), 7000);
            var (source, destination) = fromClient ? (clientEnd, serverEnd) : (serverEnd, clientEnd);
            var bytes = payload ?? [];
            var header = udp
                ? PacketFactory.Udp(source, destination, bytes.Length, bytes.Length + (extra % 8), now)
                : PacketFactory.Tcp(source, destination, seq % 4096, bytes.Length, bytes.Length + (extra % 8), (byte)(flags & (PacketHeader.Syn | PacketHeader.Fin | PacketHeader.Rst | PacketHeader.Ack)), now);
            tracker.OnPacket(header, bytes, fromClient, "veth-fuzz");
            now += 1_000_000;
            Assert.InRange(tracker.TrackedFlows, 0, MaxFlows);
        }

        tracker.Tick(now + 120_000_000_000);
        Assert.Equal(0, tracker.TrackedFlows);
        Assert.Equal(0, failures);
        Assert.Equal(0, metrics.Value("parser_failures"));
    }
}
