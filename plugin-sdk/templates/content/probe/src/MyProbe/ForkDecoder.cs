using System.Buffers.Binary;
using System.Text;

namespace MyProbe;

/// <summary>Reads <c>struct fork_event</c> (bpf/forks.h) in place; keep the offsets in step with the header.</summary>
public static class ForkDecoder
{
    /// <summary>sizeof(struct fork_event).</summary>
    public const int RecordSize = 32;

    private const int ParentPidOffset = 8;
    private const int CommOffset = 16;
    private const int CommLength = 16;

    /// <summary>Decodes one record; false when it has another size (object and decoder disagree).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> record, out ForkEvent decoded)
    {
        decoded = default;
        if (record.Length != RecordSize)
        {
            return false;
        }

        var comm = record.Slice(CommOffset, CommLength);
        var end = comm.IndexOf((byte)0);
        decoded = new ForkEvent(
            BinaryPrimitives.ReadUInt64LittleEndian(record),
            BinaryPrimitives.ReadUInt32LittleEndian(record[ParentPidOffset..]),
            Encoding.UTF8.GetString(end < 0 ? comm : comm[..end]));
        return true;
    }
}
