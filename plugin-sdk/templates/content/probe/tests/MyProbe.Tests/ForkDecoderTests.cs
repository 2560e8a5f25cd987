using System.Buffers.Binary;
using System.Text;

namespace MyProbe.Tests;

public sealed class ForkDecoderTests
{
    [Fact]
    public void A_record_decodes_field_by_field()
    {
        var record = Record(timestampNs: 123_456_789, pid: 4242, comm: "bash");

        Assert.True(ForkDecoder.TryDecode(record, out var fork));

        Assert.Equal(new ForkEvent(123_456_789, 4242, "bash"), fork);
    }

    [Fact]
    public void A_comm_filling_its_buffer_has_no_terminator_and_is_read_whole()
    {
        Assert.True(ForkDecoder.TryDecode(Record(1, 2, "sixteen-chars-xx"), out var fork));

        Assert.Equal("sixteen-chars-xx", fork.ParentComm);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(ForkDecoder.RecordSize - 1)]
    [InlineData(ForkDecoder.RecordSize + 8)]
    public void A_record_of_another_size_is_rejected(int size) =>
        Assert.False(ForkDecoder.TryDecode(new byte[size], out _));

    // Lays a record out as struct fork_event in bpf/forks.h.
    private static byte[] Record(ulong timestampNs, uint pid, string comm)
    {
        var record = new byte[ForkDecoder.RecordSize];
        BinaryPrimitives.WriteUInt64LittleEndian(record, timestampNs);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), pid);
        Encoding.UTF8.GetBytes(comm, record.AsSpan(16, 16));
        return record;
    }
}
