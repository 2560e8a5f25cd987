using System.Buffers.Binary;
using System.Text;

namespace ExecProbe;

/// <summary>
/// Reads <c>struct exec_event</c> (bpf/exec.h) in place. The offsets below are the C layout; a record of another size
/// means the object and this decoder disagree, and is rejected rather than misread.
/// </summary>
public static class ExecDecoder
{
    /// <summary>sizeof(struct exec_event).</summary>
    public const int RecordSize = 304;

    private const int CgroupIdOffset = 8;
    private const int PidOffset = 16;
    private const int UidOffset = 20;
    private const int GidOffset = 24;
    private const int FilenameLengthOffset = 28;
    private const int CommOffset = 32;
    private const int CommLength = 16;
    private const int FilenameOffset = CommOffset + CommLength;
    private const int FilenameCapacity = 256;

    /// <summary>Decodes one record; false when it is not an exec_event (wrong size, or a length past its buffer).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> record, out ExecEvent decoded)
    {
        decoded = default;
        if (record.Length != RecordSize)
        {
            return false;
        }

        var filenameLength = BinaryPrimitives.ReadUInt32LittleEndian(record[FilenameLengthOffset..]);
        if (filenameLength >= FilenameCapacity)
        {
            return false;
        }

        decoded = new ExecEvent(
            BinaryPrimitives.ReadUInt64LittleEndian(record),
            BinaryPrimitives.ReadUInt64LittleEndian(record[CgroupIdOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(record[PidOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(record[UidOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(record[GidOffset..]),
            CString(record.Slice(CommOffset, CommLength)),
            Encoding.UTF8.GetString(record.Slice(FilenameOffset, (int)filenameLength)));
        return true;
    }

    private static string CString(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
