using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Kubebpf.Capture.Capture;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Capture.Tests;

/// <summary>The real socket filter on a pod's host-side veth, TCP: real nginx, curl and Python clients in network namespaces.</summary>
[Trait("Category", "Kernel")]
public sealed class PacketFilterKernelTests(ITestOutputHelper output)
{
    private const int Requests = 20;
    private const int BodyBytes = 60_000;
    private const uint WholeSegments = PacketCaptureOptions.MaxSegmentBytesLimit;
    private const int ChunkBytes = 4096; // CAPTURE_CHUNK_BYTES
    private const int BodyEndBytes = WholeSegmentRule.MinBodyEndBytes; // of the rule with no protocol
    private const int WholeSegmentBytes = WholeSegmentRule.WholeSegmentBytes;

    // Segments that continue the request's head within this many bytes of its start are copied whole
    // (CAPTURE_HEAD_WINDOW_BYTES): only the body beyond is cut to its ends.
    private const uint HeadWindowBytes = 16384;

    private const int ResponseBodyBytes = 16384;

    [Theory]
    [InlineData(false, PacketCaptureOptions.SocketAttach)]
    [InlineData(true, PacketCaptureOptions.SocketAttach)]
    [InlineData(false, PacketCaptureOptions.TcAttach)]
    [InlineData(true, PacketCaptureOptions.TcAttach)]
    public void Every_request_and_response_head_reaches_the_ring_buffer_exactly_once_after_a_SYN_and_a_SYN_ACK(bool ipv6, string attach)
    {
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        using var nginx = PodNginx.Start(pods, server, """location / { return 200 "hello"; }""");
        using var filter = FilterHarness.Attach(attach, server.HostInterface);

        var url = ipv6 ? $"http://[{server.IPv6}]/" : $"http://{server.IPv4}/";
        NetworkPods.Exec(client, $"for i in $(seq {Requests}); do curl -sf -g -o /dev/null {url} || exit 1; done");
        // Both FINs of every connection: the server's may follow curl's exit.
        var records = filter.DrainUntil(r => r.Count(x => x.Has(PacketHeader.Fin)) >= 2 * Requests, $"{2 * Requests} FIN records");

        Assert.Equal(Requests, records.Count(r => r.Payload.AsSpan().StartsWith("GET "u8)));
        Assert.Equal(Requests, records.Count(r => r.Payload.AsSpan().StartsWith("HTTP/1."u8)));
        Assert.Equal(Requests, records.Count(r => r.Has(PacketHeader.Syn) && !r.Has(PacketHeader.Ack) && r.Header.DestinationPort == 80));
        Assert.Equal(Requests, records.Count(r => r.Has(PacketHeader.Syn) && r.Has(PacketHeader.Ack) && r.Header.SourcePort == 80));
        Assert.All(records, r =>
        {
            Assert.Equal((PacketHeader.ProtocolTcp, ipv6 ? 6 : 4), (r.Header.Protocol, (int)r.Header.Family));
            Assert.Equal(r.Header.PayloadLength, r.Header.CapturedLength);
            Assert.True(r.Header.PayloadLength > 0 || r.Has(PacketHeader.Syn | PacketHeader.Fin | PacketHeader.Rst), $"a pure ACK was emitted (flags 0x{r.Header.TcpFlags:x2})");
        });
        Assert.Equal(0, filter.Malformed);
        Assert.Equal((ulong)records.Count, filter.Counter(KernelCounter.Packets));
        Assert.Equal((0UL, 0UL, 0UL), (filter.Counter(KernelCounter.RingBufferFull), filter.Counter(KernelCounter.Truncated), filter.Counter(KernelCounter.UnsupportedIp)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_large_write_arrives_whole_as_contiguous_chunk_records(bool ipv6)
    {
        var upload = Upload(WholeSegments, ipv6, Body.Text);

        var (covered, mismatch) = Follow(upload.Stream, upload.FirstSeq, upload.Request);
        Assert.Null(mismatch);
        Assert.Equal(upload.Request.Length, covered);
        Assert.All(upload.Stream, r => Assert.Equal(r.Header.PayloadLength, r.Header.CapturedLength));
        var segments = Segments(upload.Stream);
        Assert.All(segments, CheckChunking);
        Assert.True(segments.Any(s => s.Count > 1), "no segment spanned several records: GSO made no segment larger than a chunk");
        Assert.Equal((0UL, 0UL), (upload.Truncated, upload.RingBufferFull));
        output.WriteLine(
            $"{upload.Request.Length} bytes in {segments.Count} segments, {upload.Stream.Count} records; " +
            $"largest segment {segments.Max(s => s.Sum(r => (long)r.Header.PayloadLength))} bytes in {segments.Max(s => s.Count)} records");
    }

    [Fact]
    public void Segment_bytes_past_the_limit_are_reported_uncaptured_and_counted()
    {
        const int limit = 5000;
        var upload = Upload(limit, ipv6: false, Body.Text);

        var (covered, mismatch) = Follow(upload.Stream, upload.FirstSeq, upload.Request);
        Assert.Null(mismatch);
        Assert.Equal(upload.Request.Length, covered); // payload_len accounts for the bytes not copied
        var segments = Segments(upload.Stream);
        Assert.All(segments, CheckChunking);
        Assert.All(segments, s =>
        {
            var length = s.Sum(r => (long)r.Header.PayloadLength);
            Assert.Equal(Math.Min(length, limit), s.Sum(r => (long)r.Header.CapturedLength));
            Assert.Equal(Math.Max(1, (Math.Min(length, limit) + ChunkBytes - 1) / ChunkBytes), s.Count);
        });
        var truncated = segments.Count(s => s.Sum(r => (long)r.Header.PayloadLength) > limit);
        Assert.True(truncated > 0, $"no segment was longer than {limit} bytes");
        Assert.Equal((ulong)truncated, upload.Truncated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_segment_that_starts_with_binary_bytes_is_copied_to_its_ends_unless_asked_for_whole(bool whole)
    {
        var upload = Upload(WholeSegments, ipv6: false, whole ? Body.BinaryCopiedWhole : Body.Binary);

        var (covered, mismatch) = Follow(upload.Stream, upload.FirstSeq, upload.Request);
        Assert.Null(mismatch);
        Assert.Equal(upload.Request.Length, covered); // payload_len accounts for the bytes not copied
        var segments = Segments(upload.Stream);
        Assert.All(segments, CheckChunking);
        var binaryAndLong = segments.Where(s => s[0].Payload.Length > 0 && s[0].Payload[0] >= 0x80 && s.Sum(r => (long)r.Header.PayloadLength) > WholeSegmentBytes
            && s[0].Header.Seq - upload.FirstSeq >= HeadWindowBytes).ToList();
        Assert.True(binaryAndLong.Count > 0, "no segment longer than those copied whole started inside the binary body");
        Assert.All(binaryAndLong, s =>
        {
            // Whole, or its two ends (where a coalesced head would be), the first standing for the bytes between.
            var length = s.Sum(r => (long)r.Header.PayloadLength);
            Assert.Equal(whole ? length : 2 * BodyEndBytes, s.Sum(r => (long)r.Header.CapturedLength));
            Assert.True(whole || s.Count == 2, $"{s.Count} records for a binary segment");
        });
        Assert.Equal((0UL, 0UL), (upload.Truncated, upload.RingBufferFull)); // a design choice, not a truncation
    }

    [Theory]
    [InlineData(1024, 1024)]
    [InlineData(1500, 2048)]
    [InlineData(4096, 4096)]
    public void With_declared_message_starts_a_segment_inside_a_text_body_is_copied_to_its_ends_and_one_starting_a_head_whole(int askedEndBytes, int endBytes)
    {
        var rule = WholeSegmentRule.For([new LineProtocol(messageStarts: ["POST "]).MessageStarts], askedEndBytes);
        Assert.Equal(endBytes, rule.BodyEndBytes);
        var upload = Upload(WholeSegments, ipv6: false, Body.Text, rule);

        var (covered, mismatch) = Follow(upload.Stream, upload.FirstSeq, upload.Request);
        Assert.Null(mismatch);
        Assert.Equal(upload.Request.Length, covered);
        var segments = Segments(upload.Stream);
        Assert.All(segments, CheckChunking);
        var head = Assert.Single(segments, s => s[0].Payload.AsSpan().StartsWith("POST "u8));
        Assert.Equal(head.Sum(r => (long)r.Header.PayloadLength), head.Sum(r => (long)r.Header.CapturedLength));
        var inBody = segments.Where(s => s != head && s.Sum(r => (long)r.Header.PayloadLength) > WholeSegmentBytes && s[0].Header.Seq - upload.FirstSeq >= HeadWindowBytes).ToList();
        Assert.True(inBody.Count > 0, "no segment longer than those copied whole started inside the body");
        Assert.All(inBody, s =>
        {
            Assert.Equal(2 * endBytes, s.Sum(r => (long)r.Header.CapturedLength));
            Assert.Equal(2, s.Count);
        });
        Assert.All(segments.Where(s => s.Sum(r => (long)r.Header.PayloadLength) <= WholeSegmentBytes), s =>
            Assert.Equal(s.Sum(r => (long)r.Header.PayloadLength), s.Sum(r => (long)r.Header.CapturedLength))); // may continue a head
        Assert.Equal((0UL, 0UL), (upload.Truncated, upload.RingBufferFull));
    }

    [Theory]
    [InlineData(80, 1024)]
    [InlineData(3306, 4096)]
    public void A_16_KiB_response_body_is_cut_to_the_ends_its_server_port_asks_for(ushort port, int endBytes)
    {
        // HTTP-like on port 80 with the default ends, MySQL-like on 3306 asking for 4 KiB: only 3306 pays for them.
        var rule = WholeSegmentRule.For([
            new LineProtocol("http", ports: [80], messageStarts: ["HTTP/", "GET "]),
            new LineProtocol("mysql", ports: [3306], messageStarts: [], bodyEndBytes: 4096)]);
        Assert.Equal(BodyEndBytes, rule.BodyEndBytes);
        Assert.Equal(new Dictionary<ushort, int> { [3306] = 4096 }, rule.BodyEndPorts);
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        var file = Path.GetTempFileName();
        try
        {
            // A text body: it is cut because it starts with no declared start, not because it looks binary.
            File.WriteAllBytes(file, [.. Enumerable.Range(0, ResponseBodyBytes).Select(i => (byte)('a' + (i % 26)))]);
            using var nginx = PodNginx.Start(pods, server, $"location = /16k {{ sendfile on; alias {file}; }}", port);
            using var filter = FilterHarness.Attach(WholeSegments, wholeBinarySegments: false, rule, server.HostInterface);

            var url = $"http://{server.IPv4}:{port}/16k";
            NetworkPods.Exec(client, $"curl -sf -o /dev/null {string.Join(' ', Enumerable.Repeat(url, Requests))}"); // one kept-alive connection
            bool FromServer(CapturedRecord r) => r.Header.SourcePort == port && r.Source.Equals(System.Net.IPAddress.Parse(server.IPv4));
            var records = filter.DrainUntil(r => r.Any(x => FromServer(x) && x.Has(PacketHeader.Fin)), "the server's FIN");

            var responses = records.Where(FromServer).ToList();
            var segments = Segments(responses);
            Assert.All(segments, CheckChunking);
            Assert.Equal(Requests, segments.Count(s => s[0].Payload.AsSpan().StartsWith("HTTP/1.1 200"u8)));
            Assert.Equal((long)Requests * ResponseBodyBytes, segments.Sum(s => s.Sum(r => (long)r.Header.PayloadLength)) - segments.Where(s => s[0].Payload.AsSpan().StartsWith("HTTP/"u8)).Sum(HeadBytes));
            var inBody = segments.Where(s => !s[0].Payload.AsSpan().StartsWith("HTTP/"u8) && s.Sum(r => (long)r.Header.PayloadLength) > WholeSegmentBytes).ToList();
            Assert.True(inBody.Count > 0, "no segment longer than those copied whole started inside a body");
            Assert.All(inBody, s => Assert.Equal([endBytes, endBytes], s.Select(r => (int)r.Header.CapturedLength)));
            Assert.Equal((0UL, 0UL), (filter.Counter(KernelCounter.Truncated), filter.Counter(KernelCounter.RingBufferFull)));
            var ringBytes = responses.Sum(r => (long)PacketHeader.Size + r.Header.CapturedLength);
            output.WriteLine(
                $"port {port}: {inBody.Count} body segments of {string.Join(", ", inBody.Select(s => s.Sum(r => (long)r.Header.PayloadLength)).Distinct())} bytes, each cut to 2 x {endBytes} bytes; "
                + $"{(double)ringBytes / Requests:F0} ring bytes per 16 KiB response (records and headers, FIN included)");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Struct_packet_event_has_the_layout_of_PacketHeader()
    {
        var directory = Directory.CreateTempSubdirectory("kubebpf-layout-").FullName;
        var c = Path.Combine(directory, "layout.c");
        var exe = Path.Combine(directory, "layout");
        File.WriteAllText(c, """
            #include <stdio.h>
            #include <stddef.h>
            #include <linux/types.h>
            #include "packet_capture.h"
            #define F(m) printf(#m " %zu\n", offsetof(struct packet_event, m))
            int main(void)
            {
                printf("size %zu\n", sizeof(struct packet_event));
                F(timestamp_ns); F(ifindex); F(seq); F(ack); F(payload_len); F(captured_len); F(sport); F(dport);
                F(family); F(tcp_flags); F(pkt_type); F(protocol); F(saddr); F(daddr);
                printf("chunk %d\nmax_segment %d\n", CAPTURE_CHUNK_BYTES, CAPTURE_MAX_SEGMENT_BYTES);
                printf("body_end %d\nmax_body_end %d\nwhole_segment %d\nmax_starts %d\nmessage_start %zu\n", CAPTURE_BODY_END_BYTES, CAPTURE_MAX_BODY_END_BYTES, CAPTURE_WHOLE_SEGMENT_BYTES, CAPTURE_MAX_MESSAGE_STARTS, sizeof(struct message_start));
                printf("max_end_ports %d\nend_port %zu\nend_port_bytes %zu\n", CAPTURE_MAX_BODY_END_PORTS, sizeof(struct body_end_port), offsetof(struct body_end_port, end_bytes));
                printf("fin %d\nsyn %d\nrst %d\nack_flag %d\ncounters %d\n", PACKET_FIN, PACKET_SYN, PACKET_RST, PACKET_ACK, COUNTER_MAX);
                return 0;
            }
            """);
        KernelTest.Run("gcc", "-I", Path.Combine(KernelTest.RepositoryRoot, "bpf", "capture"), c, "-o", exe);
        var layout = KernelTest.Run(exe).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture));
        Directory.Delete(directory, recursive: true);

        Assert.Equal(layout["size"], Marshal.SizeOf<PacketHeader>());
        Assert.Equal(PacketHeader.Size, layout["size"]);
        (string C, string Cs)[] fields =
        [
            ("timestamp_ns", nameof(PacketHeader.TimestampNs)), ("ifindex", nameof(PacketHeader.IfIndex)),
            ("seq", nameof(PacketHeader.Seq)), ("ack", nameof(PacketHeader.AckNumber)),
            ("payload_len", nameof(PacketHeader.PayloadLength)), ("captured_len", nameof(PacketHeader.CapturedLength)),
            ("sport", nameof(PacketHeader.SourcePort)), ("dport", nameof(PacketHeader.DestinationPort)),
            ("family", nameof(PacketHeader.Family)), ("tcp_flags", nameof(PacketHeader.TcpFlags)),
            ("pkt_type", nameof(PacketHeader.PacketType)), ("protocol", nameof(PacketHeader.Protocol)),
            ("saddr", nameof(PacketHeader.SourceAddress)), ("daddr", nameof(PacketHeader.DestinationAddress)),
        ];
        foreach (var (cName, csName) in fields)
        {
            Assert.True(layout[cName] == (int)Marshal.OffsetOf<PacketHeader>(csName), $"offsetof({cName}) {layout[cName]} != {csName} {Marshal.OffsetOf<PacketHeader>(csName)}");
        }

        Assert.Equal((ChunkBytes, PacketCaptureOptions.MaxSegmentBytesLimit), (layout["chunk"], layout["max_segment"]));
        Assert.Equal(
            (WholeSegmentRule.MinBodyEndBytes, WholeSegmentRule.MaxBodyEndBytes, WholeSegmentRule.WholeSegmentBytes, WholeSegmentRule.MaxStarts, 16),
            (layout["body_end"], layout["max_body_end"], layout["whole_segment"], layout["max_starts"], layout["message_start"]));
        Assert.Equal((WholeSegmentRule.MaxBodyEndPorts, 2 * sizeof(ushort), sizeof(ushort)), (layout["max_end_ports"], layout["end_port"], layout["end_port_bytes"]));
        Assert.Equal(
            (PacketHeader.Fin, PacketHeader.Syn, PacketHeader.Rst, PacketHeader.Ack, (int)KernelCounter.Count),
            ((byte)layout["fin"], (byte)layout["syn"], (byte)layout["rst"], (byte)layout["ack_flag"], layout["counters"]));
    }

    /// <summary>
    /// Walks one direction of one connection in sequence order from <paramref name="firstSeq"/>: how many bytes the
    /// records cover without a gap (retransmissions overlap), and the first record whose captured bytes differ from
    /// <paramref name="sent"/>.
    /// </summary>
    private static (long Covered, string? Mismatch) Follow(IEnumerable<CapturedRecord> records, uint firstSeq, byte[] sent)
    {
        long covered = 0;
        foreach (var record in records.Where(r => r.Header.PayloadLength > 0).OrderBy(r => r.Header.Seq - firstSeq))
        {
            long offset = record.Header.Seq - firstSeq;
            if (offset > covered)
            {
                break;
            }

            if (offset + record.Payload.Length > sent.Length || !record.Payload.AsSpan().SequenceEqual(sent.AsSpan((int)offset, record.Payload.Length)))
            {
                return (covered, $"the {record.Payload.Length} bytes captured at stream offset {offset} differ from those sent");
            }

            covered = Math.Max(covered, offset + record.Header.PayloadLength);
        }

        return (covered, null);
    }

    /// <summary>The head bytes of a segment that starts with a response head: up to its empty line.</summary>
    private static long HeadBytes(List<CapturedRecord> segment) => segment[0].Payload.AsSpan().IndexOf("\r\n\r\n"u8) + 4;

    /// <summary>The records grouped by the packet they came from (one timestamp per packet), each group in sequence order.</summary>
    private static List<List<CapturedRecord>> Segments(IEnumerable<CapturedRecord> records) =>
        [.. records.Where(r => r.Header.PayloadLength > 0).GroupBy(r => r.Header.TimestampNs).Select(g => g.OrderBy(r => r.Header.Seq - g.First().Header.Seq).ToList())];

    /// <summary>One segment's records: contiguous, every record but the last a full chunk (or a body's first end), SYN first and FIN/RST last only.</summary>
    private static void CheckChunking(List<CapturedRecord> segment)
    {
        for (var i = 0; i < segment.Count; i++)
        {
            var header = segment[i].Header;
            if (i + 1 < segment.Count)
            {
                Assert.True(header.CapturedLength is ChunkBytes or BodyEndBytes or 2 * BodyEndBytes, $"{header.CapturedLength} bytes captured in a record before the segment's last");
                Assert.True(header.PayloadLength >= header.CapturedLength, $"a record standing for {header.PayloadLength} bytes before the segment's last"); // more: a body's first end
                Assert.Equal(header.Seq + header.PayloadLength, segment[i + 1].Header.Seq);
                Assert.False(segment[i].Has(PacketHeader.Fin | PacketHeader.Rst), "FIN or RST on a record that is not the segment's last");
            }

            Assert.False(i > 0 && segment[i].Has(PacketHeader.Syn), "SYN on a record that is not the segment's first");
        }
    }

    /// <summary>
    /// POSTs a <see cref="BodyBytes"/> body to nginx in one <c>send</c> from a Python client, with the filter
    /// (<paramref name="maxSegmentBytes"/>, and <paramref name="wholeSegments"/> or the text rule) on the server's veth;
    /// returns the client's records once they cover the request.
    /// </summary>
    private static UploadResult Upload(uint maxSegmentBytes, bool ipv6, Body kind, WholeSegmentRule? wholeSegments = null)
    {
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        using var nginx = PodNginx.Start(pods, server, """location = /upload { return 200 "stored"; }""");
        using var filter = FilterHarness.Attach(maxSegmentBytes, kind == Body.BinaryCopiedWhole, wholeSegments ?? WholeSegmentRule.Text, server.HostInterface);

        // Text: printable letters, copied whole. Binary: every byte at 0x80 or above, so that every segment inside
        // the body starts with binary bytes.
        var body = new byte[BodyBytes];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = kind == Body.Text ? (byte)('a' + (i % 26)) : (byte)(0x80 | (i * 7 % 128));
        }

        byte[] request = [.. Encoding.ASCII.GetBytes($"POST /upload HTTP/1.1\r\nHost: pod\r\nContent-Length: {BodyBytes}\r\nConnection: close\r\n\r\n"), .. body];
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, request);
            var status = PodPython.Run(client, Scripts.SendFileOnce, ipv6 ? server.IPv6 : server.IPv4, "80", file).Trim();
            Assert.Equal("HTTP/1.1 200 OK", status);
        }
        finally
        {
            File.Delete(file);
        }

        var clientAddress = System.Net.IPAddress.Parse(ipv6 ? client.IPv6 : client.IPv4);
        List<CapturedRecord> Stream(IEnumerable<CapturedRecord> records) => [.. records.Where(r => r.Header.DestinationPort == 80 && r.Source.Equals(clientAddress))];
        uint? FirstSeq(IEnumerable<CapturedRecord> records) =>
            Stream(records).FirstOrDefault(r => r.Has(PacketHeader.Syn)) is { } syn ? syn.Header.Seq + 1 : null;

        var records = filter.DrainUntil(
            r => FirstSeq(r) is { } first && Follow(Stream(r), first, request).Covered >= request.Length,
            $"the client's SYN and {request.Length} request bytes");
        Assert.Equal(0, filter.Malformed);
        return new UploadResult(Stream(records), FirstSeq(records)!.Value, request, filter.Counter(KernelCounter.Truncated), filter.Counter(KernelCounter.RingBufferFull));
    }

    private enum Body
    {
        Text,
        Binary,
        BinaryCopiedWhole,
    }

    private sealed record UploadResult(IReadOnlyList<CapturedRecord> Stream, uint FirstSeq, byte[] Request, ulong Truncated, ulong RingBufferFull);
}
