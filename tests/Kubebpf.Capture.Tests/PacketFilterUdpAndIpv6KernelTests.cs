using System.Globalization;
using System.Net;
using System.Text;
using Kubebpf.Capture.Capture;
using Kubebpf.Testing;

namespace Kubebpf.Capture.Tests;

/// <summary>The real socket filter on pods' host-side veths: UDP, IP fragments and IPv6 extension headers.</summary>
[Trait("Category", "Kernel")]
public sealed class PacketFilterUdpAndIpv6KernelTests
{
    private const int Port = 9000;
    private const int Datagrams = 20;
    private const int Size = 200;

    [Theory]
    [InlineData(false, PacketCaptureOptions.SocketAttach)]
    [InlineData(true, PacketCaptureOptions.SocketAttach)]
    [InlineData(false, PacketCaptureOptions.TcAttach)]
    [InlineData(true, PacketCaptureOptions.TcAttach)]
    public void Every_datagram_is_one_record_with_its_whole_payload_each_way(bool ipv6, string attach)
    {
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        using var filter = FilterHarness.Attach(attach, server.HostInterface);

        var answers = Exchange(pods, ipv6, Datagrams, Size);
        Assert.Equal(Enumerable.Repeat("pong", Datagrams), answers);
        var records = filter.DrainUntil(r => r.Count(x => x.IsUdp) >= 2 * Datagrams, $"{2 * Datagrams} UDP records");

        var (serverAddress, clientAddress) = Addresses(server, client, ipv6);
        var pings = records.Where(r => r.Header.DestinationPort == Port).ToList();
        var pongs = records.Where(r => r.Header.SourcePort == Port).ToList();
        Assert.Equal(Expected(Scripts.Ping), pings.Select(r => Text(r.Payload)));
        Assert.Equal(Expected(Scripts.Pong), pongs.Select(r => Text(r.Payload)));
        Assert.All(pings, r => Assert.Equal((clientAddress, serverAddress), (r.Source, r.Destination)));
        Assert.All(pongs, r => Assert.Equal((serverAddress, clientAddress), (r.Source, r.Destination)));
        Assert.All(records, r =>
        {
            Assert.True(r.IsUdp, $"protocol {r.Header.Protocol}");
            Assert.Equal(ipv6 ? 6 : 4, r.Header.Family);
            Assert.Equal((0u, 0u, (byte)0), (r.Header.Seq, r.Header.AckNumber, r.Header.TcpFlags));
            Assert.Equal(r.Header.PayloadLength, r.Header.CapturedLength);
        });
        Assert.Equal(2 * Datagrams, records.Count);
        Assert.Equal(0, filter.Malformed);
        Assert.Equal((ulong)records.Count, filter.Counter(KernelCounter.Packets));
        Assert.Equal((0UL, 0UL, 0UL), (filter.Counter(KernelCounter.RingBufferFull), filter.Counter(KernelCounter.Truncated), filter.Counter(KernelCounter.UnsupportedIp)));
    }

    [Fact]
    public void A_datagram_longer_than_a_record_keeps_its_length_and_is_counted_truncated()
    {
        const int size = 6000;
        using var pods = NetworkPods.Create(2);
        foreach (var pod in pods.Pods)
        {
            // Jumbo frames, so the datagram is not fragmented.
            NetworkPods.Exec(pod, "ip link set eth0 mtu 9000");
            KernelTest.Run("ip", "link", "set", pod.HostInterface, "mtu", "9000");
        }

        using var filter = FilterHarness.Attach(PacketCaptureOptions.MaxSegmentBytesLimit, pods.Pods[0].HostInterface);
        Assert.Equal(["pong"], Exchange(pods, ipv6: false, count: 1, size));
        var records = filter.DrainUntil(r => r.Count(x => x.IsUdp) >= 2, "the datagram and its answer");

        var ping = Scripts.Ping(0, size);
        var record = Assert.Single(records, r => r.Header.DestinationPort == Port);
        Assert.Equal((ping.Length, 4096), ((int)record.Header.PayloadLength, (int)record.Header.CapturedLength));
        Assert.Equal(ping[..4096], record.Payload);
        Assert.Equal(2UL, filter.Counter(KernelCounter.Truncated)); // the datagram and its answer
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fragments_of_a_datagram_are_counted_unsupported_and_not_emitted(bool ipv6)
    {
        using var pods = NetworkPods.Create(2);
        using var filter = FilterHarness.Attach(PacketCaptureOptions.MaxSegmentBytesLimit, pods.Pods[0].HostInterface);

        // 2012 bytes of UDP over a 1500-byte MTU: two fragments each way.
        Assert.Equal(["pong"], Exchange(pods, ipv6, count: 1, size: 2000));
        Poll.Until(() => filter.Counter(KernelCounter.UnsupportedIp) >= 4, "4 fragments counted", () => $"{filter.Counter(KernelCounter.UnsupportedIp)} counted");

        Assert.Equal(4UL, filter.Counter(KernelCounter.UnsupportedIp));
        Assert.Empty(filter.DrainUntil(_ => true, "a drain"));
    }

    [Theory]
    [InlineData(PacketCaptureOptions.SocketAttach)]
    [InlineData(PacketCaptureOptions.TcAttach)]
    public void A_datagram_behind_an_ipv6_destination_options_header_is_captured_as_udp(string attach)
    {
        const int count = 3;
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        using var filter = FilterHarness.Attach(attach, server.HostInterface);

        // The server says it received each datagram with the header: so it was on the wire.
        Assert.Equal(Enumerable.Repeat("pong+dstopts", count), Exchange(pods, ipv6: true, count, Size, "dstopts"));
        var records = filter.DrainUntil(r => r.Count(x => x.IsUdp) >= 2 * count, $"{2 * count} UDP records");

        var pings = records.Where(r => r.Header.DestinationPort == Port).ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => Text(Scripts.Ping(i, Size))), pings.Select(r => Text(r.Payload)));
        Assert.All(pings, r => Assert.Equal((IPAddress.Parse(client.IPv6), (byte)6, PacketHeader.ProtocolUdp), (r.Source, r.Header.Family, r.Header.Protocol)));
        Assert.Equal(0UL, filter.Counter(KernelCounter.UnsupportedIp));
    }

    [Fact]
    public void Ipv6_housekeeping_behind_a_hop_by_hop_header_is_ignored_and_not_counted()
    {
        const int requests = 5;
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        using var nginx = PodNginx.Start(pods, server, """location / { return 200 "hello"; }""");
        using var filter = FilterHarness.Attach(PacketCaptureOptions.MaxSegmentBytesLimit, server.HostInterface, client.HostInterface);

        // MLDv2 reports (ICMPv6 behind a hop-by-hop header) on a join and a leave, flooded to both veths.
        var before = MldReportsSent(client);
        PodPython.Run(client, Scripts.JoinMulticastGroup);
        Poll.Until(() => MldReportsSent(client) >= before + 2, "the client's MLD reports", () => $"{MldReportsSent(client) - before} sent");
        NetworkPods.Exec(client, $"for i in $(seq {requests}); do curl -sf -g -o /dev/null http://[{server.IPv6}]/ || exit 1; done");
        var records = filter.DrainUntil(r => r.Count(x => x.Payload.AsSpan().StartsWith("HTTP/1."u8)) >= 2 * requests, "the responses on both veths");

        Assert.Equal(2 * requests, records.Count(r => r.Payload.AsSpan().StartsWith("GET "u8)));
        Assert.Equal(0UL, filter.Counter(KernelCounter.UnsupportedIp));
    }

    /// <summary>Runs <see cref="Scripts.UdpServer"/> in the first pod and <see cref="Scripts.UdpClient"/> in the second; returns the client's answer markers.</summary>
    private static string[] Exchange(NetworkPods pods, bool ipv6, int count, int size, params string[] options)
    {
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        var port = Port.ToString(CultureInfo.InvariantCulture);
        PodPython.Start(pods, server, Scripts.UdpServer, ipv6 ? "6" : "4", port, count.ToString(CultureInfo.InvariantCulture));
        PodSockets.WaitForUdpListener(server, Port, Poll.DefaultTimeout, () => "the Python UDP server did not bind");
        return PodPython.Run(client, Scripts.UdpClient, [ipv6 ? server.IPv6 : server.IPv4, port, count.ToString(CultureInfo.InvariantCulture), size.ToString(CultureInfo.InvariantCulture), .. options])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static IEnumerable<string> Expected(Func<int, int, byte[]> payload) => Enumerable.Range(0, Datagrams).Select(i => Text(payload(i, Size)));

    private static string Text(byte[] payload) => Encoding.ASCII.GetString(payload);

    private static (IPAddress Server, IPAddress Client) Addresses(Pod server, Pod client, bool ipv6) =>
        ipv6 ? (IPAddress.Parse(server.IPv6), IPAddress.Parse(client.IPv6)) : (IPAddress.Parse(server.IPv4), IPAddress.Parse(client.IPv4));

    /// <summary>Icmp6OutMLDv2Reports of the pod's network namespace.</summary>
    private static long MldReportsSent(Pod pod) =>
        NetworkPods.Exec(pod, "cat /proc/net/snmp6").Output.Split('\n')
            .Select(l => l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length == 2 && p[0] == "Icmp6OutMLDv2Reports")
            .Select(p => long.Parse(p[1], CultureInfo.InvariantCulture))
            .Single();
}
