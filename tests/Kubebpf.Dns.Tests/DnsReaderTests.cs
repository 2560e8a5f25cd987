using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Kubebpf.Dns.Parsing;

namespace Kubebpf.Dns.Tests;

public class DnsReaderTests
{
    private static (DnsParseStatus Status, string Name, DnsHeader Header, DnsQuestion Question) Read(byte[] message)
    {
        var name = new char[DnsReader.MaxNameChars];
        var status = DnsReader.Read(message, name, out var header, out var question);
        return (status, new string(name, 0, question.NameLength), header, question);
    }

    [Fact]
    public void Reads_a_query_header_and_question_in_lower_case()
    {
        var (status, name, header, question) = Read(DnsWire.Query(0x1234, "Web.Shop.SVC.cluster.local", DnsWire.Srv));

        Assert.Equal(DnsParseStatus.Ok, status);
        Assert.Equal("web.shop.svc.cluster.local", name);
        Assert.Equal((0x1234, false, 0, DnsWire.Srv), (header.Id, header.IsResponse, header.Opcode, question.Type));
    }

    [Fact]
    public void Reads_an_answer_and_its_records_through_the_pointer_to_the_question()
    {
        var message = DnsWire.Answer(7, "a.test", DnsWire.A, 0, DnsWire.Address("10.0.0.1", 60), DnsWire.Address("fd00::1", 30));
        var (status, _, header, question) = Read(message);
        var answers = new DnsAnswerReader(message, header, question);
        var seen = new List<(ushort, uint, int)>();
        while (answers.TryNext(out var type, out var ttl, out var data))
        {
            seen.Add((type, ttl, data.Length));
        }

        Assert.Equal(DnsParseStatus.Ok, status);
        Assert.True(header.IsResponse);
        Assert.Equal([(DnsWire.A, 60u, 4), (DnsWire.Aaaa, 30u, 16)], seen);
    }

    [Fact]
    public void The_root_and_escaped_bytes_are_written_in_presentation_form()
    {
        byte[] odd = [.. DnsWire.Header(1, 0x0100, 1, 0), 4, (byte)'a', (byte)'.', 0x07, (byte)'\\', 0, 0, 1, 0, 1];

        Assert.Equal(".", Read([.. DnsWire.Header(1, 0x0100, 1, 0), 0, 0, 1, 0, 1]).Name);
        Assert.Equal(@"a\.\007\\", Read(odd).Name);
    }

    [Fact]
    public void Zero_questions_are_refused()
    {
        Assert.Equal(DnsParseStatus.NoQuestion, Read(DnsWire.Header(1, 0x8180, 0, 0)).Status);
    }

    [Fact]
    public void A_compression_pointer_loop_is_refused()
    {
        // The question's name points at itself; then one that points forward, then two pointing at each other.
        byte[] self = [.. DnsWire.Header(1, 0x0100, 1, 0), 0xC0, 12, 0, 1, 0, 1];
        byte[] forward = [.. DnsWire.Header(1, 0x0100, 1, 0), 0xC0, 14, 0, 0, 1, 0, 1];
        byte[] pair = [.. DnsWire.Header(1, 0x0100, 1, 0), 1, (byte)'a', 0xC0, 12, 0, 1, 0, 1];

        Assert.Equal(DnsParseStatus.BadPointer, Read(self).Status);
        Assert.Equal(DnsParseStatus.BadPointer, Read(forward).Status);
        Assert.Equal(DnsParseStatus.BadPointer, Read(pair).Status);
    }

    [Fact]
    public void Labels_over_63_bytes_and_names_over_255_are_refused()
    {
        byte[] longLabel = [.. DnsWire.Header(1, 0x0100, 1, 0), 64, .. new byte[64], 0, 0, 1, 0, 1];
        var longName = string.Join('.', Enumerable.Repeat(new string('x', 63), 4)); // 4 * 64 + 1 = 257 bytes on the wire

        Assert.Equal(DnsParseStatus.BadLabel, Read(longLabel).Status);
        Assert.Equal(DnsParseStatus.NameTooLong, Read(DnsWire.Query(1, longName)).Status);
        Assert.Equal(DnsParseStatus.Ok, Read(DnsWire.Query(1, longName[..^2])).Status);
    }

    [Fact]
    public void Every_cut_of_a_message_short_of_its_question_is_truncated()
    {
        var message = DnsWire.Query(9, "api.example.com", DnsWire.Aaaa);
        for (var length = 0; length < message.Length; length++)
        {
            var status = Read(message[..length]).Status;
            Assert.True(status == DnsParseStatus.Truncated, $"{length} bytes: {status}");
        }
    }

    [Property(MaxTest = 2000)]
    public bool Any_bytes_give_a_status_and_a_bounded_name(byte[] bytes)
    {
        var name = new char[DnsReader.MaxNameChars];
        var status = DnsReader.Read(bytes ?? [], name, out var header, out var question);
        if (status == DnsParseStatus.Ok)
        {
            var answers = new DnsAnswerReader(bytes, header, question);
            while (answers.TryNext(out _, out _, out _))
            {
            }
        }

        return Enum.IsDefined(status) && question.NameLength <= DnsReader.MaxNameChars;
    }

    [Property(MaxTest = 500)]
    public Property Any_name_of_short_labels_reads_back(NonEmptyArray<PositiveInt> labelLengths)
    {
        var labels = labelLengths.Get.Take(8).Select((l, i) => new string((char)('a' + i), l.Get % 30 + 1)).ToArray();
        var name = string.Join('.', labels);
        return (Read(DnsWire.Query(1, name)).Name == name).ToProperty();
    }
}
