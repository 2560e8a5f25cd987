using System.Runtime.InteropServices;

namespace Kubebpf.Capture.Capture;

/// <summary>
/// Mirror of <c>struct segment_event</c> in <c>bpf/http/http_capture.h</c>: one TCP segment seen by the socket filter.
/// The captured payload bytes follow it in the ring-buffer record.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct PacketHeader
{
    /// <summary>Size of the header in bytes.</summary>
    public const int Size = 72;

    /// <summary>TCP FIN flag.</summary>
    public const byte Fin = 0x01;

    /// <summary>TCP SYN flag.</summary>
    public const byte Syn = 0x02;

    /// <summary>TCP RST flag.</summary>
    public const byte Rst = 0x04;

    /// <summary>TCP ACK flag.</summary>
    public const byte Ack = 0x10;

    /// <summary><see cref="Protocol"/> of a TCP record.</summary>
    public const byte ProtocolTcp = 6;

    /// <summary><see cref="Protocol"/> of a UDP record.</summary>
    public const byte ProtocolUdp = 17;

    /// <summary><c>PACKET_OUTGOING</c>: the packet was sent out of the interface.</summary>
    public const byte PacketOutgoing = 4;

    /// <summary>CLOCK_MONOTONIC nanoseconds when the socket filter saw the packet.</summary>
    public ulong TimestampNs;

    /// <summary>Interface index.</summary>
    public uint IfIndex;

    /// <summary>Sequence number of the first payload byte.</summary>
    public uint Seq;

    /// <summary>Acknowledgement number.</summary>
    public uint AckNumber;

    /// <summary>TCP payload bytes in the packet (may exceed <see cref="CapturedLength"/>).</summary>
    public uint PayloadLength;

    /// <summary>Payload bytes that follow the header.</summary>
    public ushort CapturedLength;

    /// <summary>Source port, host order.</summary>
    public ushort SourcePort;

    /// <summary>Destination port, host order.</summary>
    public ushort DestinationPort;

    /// <summary>4 or 6.</summary>
    public byte Family;

    /// <summary>TCP flags (FIN, SYN, RST, ...).</summary>
    public byte TcpFlags;

    /// <summary>skb pkt_type.</summary>
    public byte PacketType;

    /// <summary><see cref="ProtocolTcp"/> or <see cref="ProtocolUdp"/>.</summary>
    public byte Protocol;

    private Padding6 _pad;

    /// <summary>Source address: IPv4 in the first 4 bytes.</summary>
    public Address16 SourceAddress;

    /// <summary>Destination address: IPv4 in the first 4 bytes.</summary>
    public Address16 DestinationAddress;

    /// <summary>16 raw address bytes.</summary>
    [System.Runtime.CompilerServices.InlineArray(16)]
    public struct Address16
    {
        private byte _element0;
    }

    [System.Runtime.CompilerServices.InlineArray(6)]
    private struct Padding6
    {
        private byte _element0;
    }
}
