using System.Text;
using Kubebpf.Capture.Capture;

namespace Kubebpf.Capture.Tests;

public sealed class WholeSegmentRuleTests
{
    private static readonly byte[] TextBody = Encoding.ASCII.GetBytes("0123456789abcdef0123");
    private static readonly byte[] BinaryBody = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03];

    [Fact]
    public void Declared_starts_are_copied_whole_and_bodies_text_or_binary_are_not()
    {
        var rule = WholeSegmentRule.For([new LineProtocol(messageStarts: ["REQ ", "OK\n"]), new LineProtocol("other", messageStarts: ["ERR\n"])]);

        Assert.False(rule.TextStarts);
        Assert.Equal(["ERR\n", "OK\n", "REQ "], rule.Starts.Select(Encoding.ASCII.GetString).Order(StringComparer.Ordinal));
        Assert.True(rule.CopiesWhole(Ascii("REQ name\nREQ other\n")));
        Assert.True(rule.CopiesWhole(Ascii("ERR\nOK\nOK\nOK\n")));
        Assert.False(rule.CopiesWhole(TextBody));
        Assert.False(rule.CopiesWhole(BinaryBody));
        Assert.False(rule.CopiesWhole(Ascii("REQUEST ")));
    }

    [Fact]
    public void Body_ends_are_the_largest_a_protocol_without_ports_asks_for_rounded_up_to_1_2_or_4_KiB()
    {
        Assert.Equal(1024, WholeSegmentRule.For([new LineProtocol(messageStarts: ["REQ "]), new LineProtocol("other", bodyEndBytes: 100)]).BodyEndBytes);
        Assert.Equal(2048, WholeSegmentRule.For([new LineProtocol(messageStarts: ["REQ "]), new LineProtocol("other", bodyEndBytes: 1025)]).BodyEndBytes);
        Assert.Equal(4096, WholeSegmentRule.For([new LineProtocol(bodyEndBytes: 4096), new LineProtocol("other", bodyEndBytes: 2048)]).BodyEndBytes);
        Assert.Equal(4096, WholeSegmentRule.For([new LineProtocol(bodyEndBytes: 65536)]).BodyEndBytes);
        Assert.Equal(1024, WholeSegmentRule.For(Array.Empty<Kubebpf.Sdk.Protocols.IStreamProtocol>()).BodyEndBytes);
        Assert.Equal(1024, WholeSegmentRule.Text.BodyEndBytes);
    }

    [Fact]
    public void Body_ends_above_the_default_apply_on_the_server_ports_of_the_protocol_that_asks_for_them()
    {
        var rule = WholeSegmentRule.For([
            new LineProtocol("http", ports: [80, 8080], messageStarts: ["GET "]),
            new LineProtocol("mysql", ports: [3306, 8080], messageStarts: [], bodyEndBytes: 4096),
            new LineProtocol("wide", ports: [5432], bodyEndBytes: 1500)]);

        Assert.Equal(1024, rule.BodyEndBytes);
        Assert.Equal(new Dictionary<ushort, int> { [3306] = 4096, [8080] = 4096, [5432] = 2048 }, rule.BodyEndPorts);
        Assert.Equal(4096, rule.BodyEndBytesFor(3306, 40000));
        Assert.Equal(4096, rule.BodyEndBytesFor(40000, 3306));
        Assert.Equal(2048, rule.BodyEndBytesFor(5432, 40000));
        Assert.Equal(1024, rule.BodyEndBytesFor(80, 40000));
        Assert.Equal(1024, rule.BodyEndBytesFor(40000, 33060)); // a sniffed MySQL flow on another port: the default
    }

    [Fact]
    public void A_protocol_found_by_sniffing_alone_sets_every_flows_ends()
    {
        var rule = WholeSegmentRule.For([
            new LineProtocol("http", ports: [80], messageStarts: ["GET "]),
            new LineProtocol("anywhere", messageStarts: [], bodyEndBytes: 2048),
            new LineProtocol("mysql", ports: [3306], messageStarts: [], bodyEndBytes: 4096)]);

        Assert.Equal(2048, rule.BodyEndBytes);
        Assert.Equal(new Dictionary<ushort, int> { [3306] = 4096 }, rule.BodyEndPorts);
        Assert.Equal(2048, rule.BodyEndBytesFor(80, 40000));
    }

    [Fact]
    public void More_ports_with_larger_ends_than_the_filter_holds_raise_the_default_instead()
    {
        var ports = Enumerable.Range(0, WholeSegmentRule.MaxBodyEndPorts + 1).Select(i => (ushort)(10000 + i)).ToArray();
        var fits = WholeSegmentRule.For([new LineProtocol(ports: ports[1..], bodyEndBytes: 2048)]);
        var overflows = WholeSegmentRule.For([new LineProtocol(ports: ports[1..], bodyEndBytes: 2048), new LineProtocol("other", ports: ports[..1], bodyEndBytes: 4096)]);

        Assert.Equal((1024, WholeSegmentRule.MaxBodyEndPorts), (fits.BodyEndBytes, fits.BodyEndPorts.Count));
        Assert.Equal((4096, 0), (overflows.BodyEndBytes, overflows.BodyEndPorts.Count));
    }

    [Fact]
    public void A_protocol_that_declares_no_starts_keeps_text_segments_whole()
    {
        var rule = WholeSegmentRule.For([new LineProtocol(messageStarts: ["REQ "]), new LineProtocol("undeclared")]);

        Assert.True(rule.TextStarts);
        Assert.True(rule.CopiesWhole(Ascii("REQ name\n")));
        Assert.True(rule.CopiesWhole(TextBody));
        Assert.False(rule.CopiesWhole(BinaryBody));
        Assert.True(WholeSegmentRule.Text.TextStarts);
        Assert.Empty(WholeSegmentRule.Text.Starts);
    }

    [Fact]
    public void Starts_are_cut_to_the_compared_bytes_and_those_behind_a_shorter_one_dropped()
    {
        var rule = WholeSegmentRule.For([new LineProtocol(messageStarts: ["PROPPATCH /x", "GET /", "GET ", "GET ", "G", "HTTP/"])]);

        Assert.Equal(["G", "HTTP/", "PROPPATC"], rule.Starts.Select(Encoding.ASCII.GetString).Order(StringComparer.Ordinal));
        Assert.True(rule.CopiesWhole(Ascii("PROPPATCH /y HTTP/1.1\r\n")));
        Assert.True(rule.CopiesWhole(Ascii("GONE AWAY ")));
    }

    [Fact]
    public void More_starts_than_the_filter_compares_are_shortened_until_they_fit_and_each_still_matches()
    {
        var declared = Enumerable.Range(0, 100).Select(i => $"M{i:D3}X ").ToArray();
        var rule = WholeSegmentRule.For([new LineProtocol(messageStarts: declared)]);

        Assert.InRange(rule.Starts.Count, 1, WholeSegmentRule.MaxStarts);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"M0{i}"), rule.Starts.Select(Encoding.ASCII.GetString));
        Assert.All(declared, start => Assert.True(rule.CopiesWhole(Ascii(start + "body")), start));
        Assert.False(rule.CopiesWhole(TextBody));
    }

    [Fact]
    public void An_empty_start_copies_every_segment_whole()
    {
        var rule = WholeSegmentRule.For([new LineProtocol(messageStarts: ["REQ "]), new LineProtocol("everything", messageStarts: [""])]);

        Assert.Equal([""], rule.Starts.Select(Encoding.ASCII.GetString));
        Assert.True(rule.CopiesWhole(BinaryBody));
        Assert.True(rule.CopiesWhole(TextBody));
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}
