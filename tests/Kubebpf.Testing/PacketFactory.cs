using System.Net;
using Kubebpf.Capture.Capture;

namespace Kubebpf.Testing;

/// <summary>Builds the records the socket filter would write, for tests that drive the flow tracker without a kernel.</summary>
public static class PacketFactory
{
    /// <summary>The interface index every built record carries.</summary>
    public const uint IfIndex = 7;

    /// <summary>A TCP record from <paramref name="source"/> to <paramref name="destination"/>; <paramref name="payloadLength"/> beyond the captured bytes means they were not copied.</summary>
    public static PacketHeader Tcp(IPEndPoint source, IPEndPoint destination, uint seq, int capturedLength, int? payloadLength = null, byte flags = 0, long timestampNs = 0) =>
        Header(PacketHeader.ProtocolTcp, source, destination, seq, capturedLength, payloadLength ?? capturedLength, flags, timestampNs);

    /// <summary>A UDP record.</summary>
    public static PacketHeader Udp(IPEndPoint source, IPEndPoint destination, int capturedLength, int? payloadLength = null, long timestampNs = 0) =>
        Header(PacketHeader.ProtocolUdp, source, destination, 0, capturedLength, payloadLength ?? capturedLength, 0, timestampNs);

    private static PacketHeader Header(byte protocol, IPEndPoint source, IPEndPoint destination, uint seq, int capturedLength, int payloadLength, byte flags, long timestampNs)
    {
        var header = new PacketHeader
        {
            TimestampNs = (ulong)timestampNs,
            IfIndex = IfIndex,
            Seq = seq,
            PayloadLength = (uint)payloadLength,
            CapturedLength = (ushort)capturedLength,
            SourcePort = (ushort)source.Port,
            DestinationPort = (ushort)destination.Port,
            Family = source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? (byte)6 : (byte)4,
            TcpFlags = flags,
            Protocol = protocol,
        };
        source.Address.GetAddressBytes().CopyTo(header.SourceAddress);
        destination.Address.GetAddressBytes().CopyTo(header.DestinationAddress);
        return header;
    }
}
