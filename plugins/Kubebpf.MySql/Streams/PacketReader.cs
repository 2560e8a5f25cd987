namespace Kubebpf.MySql.Streams;

/// <summary>
/// Where one side of a connection is in its packet stream: a header being read, the first bytes of a payload being
/// collected (what the parser inspects), or the rest of a payload being passed by length. It consumes every byte and
/// keeps a split header or payload start in its own bounded buffer, so that gaps are exact: bytes kept by the capture
/// would be dropped unseen with a gap.
/// </summary>
internal struct PacketReader
{
    /// <summary>The four header bytes, packed little-endian while they arrive.</summary>
    public uint Header;

    public int HeaderFilled;

    public int Length;

    public byte Sequence;

    /// <summary>The packet continues a message whose previous packet was 16 MiB - 1 long.</summary>
    public bool Continuation;

    /// <summary>The next packet continues this one's message.</summary>
    public bool NextIsContinuation;

    /// <summary>Payload bytes of the current packet not passed yet (those still being collected included).</summary>
    public long Remaining;

    /// <summary>Payload bytes to collect before the packet is inspected; 0 when it is passed by length only.</summary>
    public int Wanted;

    public int Collected;

    public readonly bool Collecting => Collected < Wanted;

    /// <summary>When the first byte of the current packet was captured.</summary>
    public long PacketStartNs;

    /// <summary>Where the current packet starts in the side's stream.</summary>
    public long PacketStartPosition;

    /// <summary>The side's packet boundaries are lost: nothing is read until it resynchronises.</summary>
    public bool Desynced;

    public void Reset(bool desynced)
    {
        this = default;
        Desynced = desynced;
    }
}
