using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kubebpf.Capture.Capture;

/// <summary>
/// Mirror of <c>struct packet_event</c> in <c>bpf/capture/packet_capture.h</c>: one ring-buffer record of the socket
/// filter, a TCP segment's payload chunk (or a payload-less SYN, FIN or RST) or a UDP datagram. The captured payload
/// bytes follow it in the record.
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

    /// <summary><c>PACKET_OUTGOING</c>: the packet was sent out of the interface.</summary>
    public const byte PacketOutgoing = 4;

    /// <summary><c>IPPROTO_TCP</c>.</summary>
    public const byte ProtocolTcp = 6;

    /// <summary><c>IPPROTO_UDP</c>.</summary>
    public const byte ProtocolUdp = 17;

    /// <summary>CLOCK_MONOTONIC nanoseconds when the socket filter saw the packet; equal for every record of one packet.</summary>
    public ulong TimestampNs;

    /// <summary>Interface index.</summary>
    public uint IfIndex;

    /// <summary>TCP: sequence number of this record's first payload byte. UDP: 0.</summary>
    public uint Seq;

    /// <summary>TCP acknowledgement number, meaningful with <see cref="Ack"/> in <see cref="TcpFlags"/> (C: <c>ack</c>; a field named <c>Ack</c> would clash with the flag). UDP: 0.</summary>
    public uint AckNumber;

    /// <summary>
    /// TCP: payload bytes this record stands for; those past <see cref="CapturedLength"/> were not copied. UDP: the
    /// datagram's payload length.
    /// </summary>
    public uint PayloadLength;

    /// <summary>Payload bytes that follow the header.</summary>
    public ushort CapturedLength;

    /// <summary>Source port, host order.</summary>
    public ushort SourcePort;

    /// <summary>Destination port, host order.</summary>
    public ushort DestinationPort;

    /// <summary>4 or 6.</summary>
    public byte Family;

    /// <summary>The raw TCP flags byte (<see cref="Fin"/>, <see cref="Syn"/>, <see cref="Rst"/>, <see cref="Ack"/>, ...); 0 for UDP.</summary>
    public byte TcpFlags;

    /// <summary>The skb's pkt_type (<see cref="PacketOutgoing"/>, ...).</summary>
    public byte PacketType;

    /// <summary><see cref="ProtocolTcp"/> or <see cref="ProtocolUdp"/>.</summary>
    public byte Protocol;

    private Padding6 _pad;

    /// <summary>Source address: IPv4 in the first 4 bytes.</summary>
    public Address16 SourceAddress;

    /// <summary>Destination address: IPv4 in the first 4 bytes.</summary>
    public Address16 DestinationAddress;

    /// <summary>16 raw address bytes, network order.</summary>
    [InlineArray(16)]
    public struct Address16
    {
        private byte _element0;
    }

    [InlineArray(6)]
    private struct Padding6
    {
        private byte _element0;
    }
}
