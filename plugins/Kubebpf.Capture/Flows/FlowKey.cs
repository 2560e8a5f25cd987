using System.Buffers.Binary;
using System.Net.Sockets;
using Kubebpf.Capture.Capture;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Capture.Flows;

/// <summary>A TCP connection or UDP flow on one interface, the same for both directions: <see cref="Low"/> sorts before <see cref="High"/>.</summary>
/// <remarks>
/// Looked up once per packet, so it is laid out flat (48 bytes, against 112 for an interface index and two
/// <see cref="NetworkEndpoint"/>s with their 16-byte-aligned <see cref="UInt128"/>s) and compares and hashes its words
/// directly instead of going through the generated per-field <c>EqualityComparer</c> and <c>HashCode.Combine</c> calls.
/// </remarks>
internal readonly struct FlowKey : IEquatable<FlowKey>
{
    // Per process like HashCode's seed, so that peers cannot pick addresses and ports that collide in every agent. The
    // shared Random is seeded from the operating system's entropy; a cryptographic generator would load OpenSSL (3.6 MB
    // of resident libraries) for this one number.
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue);

    private readonly ulong _lowUpper;
    private readonly ulong _lowLower;
    private readonly ulong _highUpper;
    private readonly ulong _highLower;

    // Both ports and the interface index in one word, to compare and hash at once.
    private readonly ulong _portsAndIndex;
    private readonly bool _isIPv6;
    private readonly bool _isUdp;

    private FlowKey(uint ifIndex, bool isIPv6, bool isUdp, UInt128 low, ushort lowPort, UInt128 high, ushort highPort)
    {
        _lowUpper = (ulong)(low >> 64);
        _lowLower = (ulong)low;
        _highUpper = (ulong)(high >> 64);
        _highLower = (ulong)high;
        _portsAndIndex = ((ulong)lowPort << 48) | ((ulong)highPort << 32) | ifIndex;
        _isIPv6 = isIPv6;
        _isUdp = isUdp;
    }

    public uint IfIndex => (uint)_portsAndIndex;

    public bool IsUdp => _isUdp;

    public NetworkEndpoint Low => new(Family, new UInt128(_lowUpper, _lowLower), (ushort)(_portsAndIndex >> 48));

    public NetworkEndpoint High => new(Family, new UInt128(_highUpper, _highLower), (ushort)(_portsAndIndex >> 32));

    private AddressFamily Family => _isIPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    public static bool operator ==(FlowKey left, FlowKey right) => left.Equals(right);

    public static bool operator !=(FlowKey left, FlowKey right) => !left.Equals(right);

    /// <summary>The key of a packet's flow; <paramref name="fromLow"/> says whether it travels from Low to High.</summary>
    public static FlowKey Of(in PacketHeader header, out bool fromLow)
    {
        var isIPv6 = header.Family == 6;
        UInt128 source = isIPv6 ? BinaryPrimitives.ReadUInt128BigEndian(header.SourceAddress) : BinaryPrimitives.ReadUInt32BigEndian(header.SourceAddress);
        UInt128 destination = isIPv6 ? BinaryPrimitives.ReadUInt128BigEndian(header.DestinationAddress) : BinaryPrimitives.ReadUInt32BigEndian(header.DestinationAddress);
        fromLow = source < destination || (source == destination && header.SourcePort <= header.DestinationPort);
        var isUdp = header.Protocol == PacketHeader.ProtocolUdp;
        return fromLow
            ? new(header.IfIndex, isIPv6, isUdp, source, header.SourcePort, destination, header.DestinationPort)
            : new(header.IfIndex, isIPv6, isUdp, destination, header.DestinationPort, source, header.SourcePort);
    }

    public bool Equals(FlowKey other) =>
        _lowLower == other._lowLower && _highLower == other._highLower && _portsAndIndex == other._portsAndIndex
        && _lowUpper == other._lowUpper && _highUpper == other._highUpper && _isIPv6 == other._isIPv6 && _isUdp == other._isUdp;

    public override bool Equals(object? obj) => obj is FlowKey other && Equals(other);

    /// <summary>
    /// Folds the words pairwise with 64x64-to-128-bit multiplications (the seed keeps a factor from being zero at will),
    /// whose high half makes the low bits, those the dictionary keeps, depend on every input bit: IPv4 addresses and
    /// ports differ mostly in their low bits. The family and transport are left out: only IPv4-compatible IPv6 addresses
    /// (deprecated) collide with IPv4 ones, and a TCP and a UDP flow between the same ports are rare.
    /// </summary>
    public override int GetHashCode()
    {
        var lower = Fold(_lowLower ^ Seed, _highLower ^ Seed ^ 0x9E37_79B9_7F4A_7C15);
        var upper = Fold(_lowUpper ^ Seed ^ 0xC2B2_AE3D_27D4_EB4F, _highUpper ^ Seed ^ 0x1656_67B1_9E37_79F9);
        var hash = Fold(lower ^ _portsAndIndex, upper ^ 0xD6E8_FEB8_6659_FD93);
        return (int)hash ^ (int)(hash >> 32);
    }

    public override string ToString() => $"{IfIndex} {(_isUdp ? "udp" : "tcp")}: {Low} {High}";

    private static ulong Fold(ulong a, ulong b)
    {
        var high = Math.BigMul(a, b, out var low);
        return high ^ low;
    }
}
