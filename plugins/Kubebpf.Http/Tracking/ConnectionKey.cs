using Kubebpf.Http.Capture;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Http.Tracking;

/// <summary>A TCP connection on one interface, the same for both directions: <see cref="Low"/> sorts before <see cref="High"/>.</summary>
internal readonly record struct ConnectionKey(uint IfIndex, NetworkEndpoint Low, NetworkEndpoint High)
{
    /// <summary>The key of a segment's connection; <paramref name="fromLow"/> says whether it travels from Low to High.</summary>
    public static ConnectionKey Of(in SegmentHeader header, out bool fromLow)
    {
        var isIPv6 = header.Family == 6;
        var source = NetworkEndpoint.FromRaw(isIPv6, header.SourceAddress, header.SourcePort);
        var destination = NetworkEndpoint.FromRaw(isIPv6, header.DestinationAddress, header.DestinationPort);
        fromLow = source.Address < destination.Address || (source.Address == destination.Address && source.Port <= destination.Port);
        return fromLow ? new(header.IfIndex, source, destination) : new(header.IfIndex, destination, source);
    }
}
