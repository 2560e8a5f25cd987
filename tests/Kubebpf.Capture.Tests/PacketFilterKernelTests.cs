using System.Runtime.InteropServices;
using Kubebpf.Http.Capture;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Testing;

namespace Kubebpf.Sdk.Tests;

/// <summary>The real socket filter on a pod's host-side veth, with real nginx and curl in network namespaces.</summary>
[Trait("Category", "Kernel")]
public sealed class HttpCaptureFilterKernelTests
{
    private const int Requests = 20;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_request_and_response_head_reaches_the_ring_buffer_exactly_once(bool ipv6)
    {
        KernelTest.RequireRoot();
        KernelRequirements.Check(KernelFeatures.None).ThrowIfUnmet();
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        using var nginx = PodNginx.Start(pods, server, """location / { return 200 "hello"; }""");

        using var obj = OpenFilter();
        obj.SetReadOnlyVariable("capture_bytes", 256u);
        obj.SetMaxEntries("segments", 1 << 20);
        obj.Load();
        using var ring = new RingBufferReader(obj.Map("segments"));
        using var socket = RawPacketSocket.Open(server.HostInterface, obj.Program("http_capture"));

        var url = ipv6 ? $"http://[{server.IPv6}]/" : $"http://{server.IPv4}/";
        NetworkPods.Exec(client, $"for i in $(seq {Requests}); do curl -sf -g -o /dev/null {url} || exit 1; done");
        Thread.Sleep(50);

        var counter = new Counting();
        ring.Drain(ref counter);
        Assert.Equal((Requests, Requests), (counter.Requests, counter.Responses));
        Assert.Equal(ipv6 ? 6 : 4, counter.Family);
        Assert.Equal(0, counter.BadRecords);
        Assert.True(counter.Fins >= 2 * Requests, $"FIN segments: {counter.Fins}");

        var counters = obj.Map("counters");
        Assert.Equal((ulong)counter.Total, counters.SumPerCpu(0)); // COUNTER_SEGMENTS
        Assert.Equal(0UL, counters.SumPerCpu(1));                   // COUNTER_RINGBUF_FULL
    }

    [Fact]
    public void Struct_segment_event_has_the_layout_of_SegmentHeader()
    {
        var directory = Directory.CreateTempSubdirectory("kubebpf-layout-").FullName;
        var c = Path.Combine(directory, "layout.c");
        var exe = Path.Combine(directory, "layout");
        File.WriteAllText(c, """
            #include <stdio.h>
            #include <stddef.h>
            #include <linux/types.h>
            #include "http_capture.h"
            #define F(m) printf(#m " %zu\n", offsetof(struct segment_event, m))
            int main(void)
            {
                printf("size %zu\n", sizeof(struct segment_event));
                F(timestamp_ns); F(ifindex); F(seq); F(ack); F(payload_len); F(captured_len); F(sport); F(dport);
                F(family); F(tcp_flags); F(pkt_type); F(saddr); F(daddr);
                return 0;
            }
            """);
        KernelTest.Run("gcc", "-I", Path.Combine(KernelTest.RepositoryRoot, "bpf", "http"), c, "-o", exe);
        var layout = KernelTest.Run(exe).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(layout["size"], Marshal.SizeOf<SegmentHeader>());
        Assert.Equal(SegmentHeader.Size, layout["size"]);
        (string C, string Cs)[] fields =
        [
            ("timestamp_ns", nameof(SegmentHeader.TimestampNs)), ("ifindex", nameof(SegmentHeader.IfIndex)),
            ("seq", nameof(SegmentHeader.Seq)), ("ack", nameof(SegmentHeader.Ack)),
            ("payload_len", nameof(SegmentHeader.PayloadLength)), ("captured_len", nameof(SegmentHeader.CapturedLength)),
            ("sport", nameof(SegmentHeader.SourcePort)), ("dport", nameof(SegmentHeader.DestinationPort)),
            ("family", nameof(SegmentHeader.Family)), ("tcp_flags", nameof(SegmentHeader.TcpFlags)),
            ("pkt_type", nameof(SegmentHeader.PacketType)), ("saddr", nameof(SegmentHeader.SourceAddress)),
            ("daddr", nameof(SegmentHeader.DestinationAddress)),
        ];
        foreach (var (cName, csName) in fields)
        {
            Assert.True(layout[cName] == (int)Marshal.OffsetOf<SegmentHeader>(csName), $"offsetof({cName}) {layout[cName]} != {csName} {Marshal.OffsetOf<SegmentHeader>(csName)}");
        }
    }

    internal static BpfObject OpenFilter() => BpfObject.OpenMemory(SegmentCapture.LoadObject(), "http_capture", new ListLogger());

    private struct Counting : IRecordHandler
    {
        public int Requests;
        public int Responses;
        public int Fins;
        public int Total;
        public int Family;
        public int BadRecords;

        public void OnRecord(ReadOnlySpan<byte> record)
        {
            Total++;
            var header = MemoryMarshal.Read<SegmentHeader>(record);
            var payload = record[SegmentHeader.Size..];
            if (payload.Length != header.CapturedLength || header.CapturedLength > header.PayloadLength)
            {
                BadRecords++;
            }

            Family = header.Family;
            Fins += (header.TcpFlags & SegmentHeader.Fin) != 0 ? 1 : 0;
            Requests += payload.StartsWith("GET "u8) ? 1 : 0;
            Responses += payload.StartsWith("HTTP/1."u8) ? 1 : 0;
        }
    }
}
