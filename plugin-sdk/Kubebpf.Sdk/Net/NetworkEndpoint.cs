using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Kubebpf.Sdk.Net;

/// <summary>
/// An IPv4 or IPv6 address and TCP/UDP port as a value, so that events carry endpoints without allocating.
/// <see cref="Address"/> holds the address as a big-endian number: an IPv4 address uses its low 32 bits.
/// </summary>
public readonly record struct NetworkEndpoint(AddressFamily Family, UInt128 Address, ushort Port)
{
    /// <summary>Reads an endpoint from the raw 16-byte address layout used by the eBPF probes (IPv4 in the first 4 bytes).</summary>
    public static NetworkEndpoint FromRaw(bool isIPv6, ReadOnlySpan<byte> address16, ushort port) =>
        new(isIPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork,
            isIPv6 ? BinaryPrimitives.ReadUInt128BigEndian(address16) : BinaryPrimitives.ReadUInt32BigEndian(address16),
            port);

    /// <summary>Creates an endpoint from an <see cref="IPAddress"/>; IPv4-mapped IPv6 addresses become IPv4.</summary>
    public static NetworkEndpoint From(IPAddress address, ushort port)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return written == 4
            ? new(AddressFamily.InterNetwork, BinaryPrimitives.ReadUInt32BigEndian(bytes), port)
            : new(AddressFamily.InterNetworkV6, BinaryPrimitives.ReadUInt128BigEndian(bytes), port);
    }

    /// <summary>
    /// The endpoint with an IPv4-mapped IPv6 address (<c>::ffff:a.b.c.d</c>, as dual-stack sockets report IPv4 peers)
    /// written as plain IPv4, so that it matches how metadata names the address; any other endpoint unchanged.
    /// </summary>
    public NetworkEndpoint Canonical() =>
        Family == AddressFamily.InterNetworkV6 && Address >> 32 == 0xFFFF
            ? new NetworkEndpoint(AddressFamily.InterNetwork, Address & uint.MaxValue, Port)
            : this;

    /// <summary>The same address with another port (0 for "any port").</summary>
    public NetworkEndpoint WithPort(ushort port) => this with { Port = port };

    /// <summary>The address as an <see cref="IPAddress"/> (allocates).</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        if (Family == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)Address);
            return new IPAddress(bytes[..4]);
        }

        BinaryPrimitives.WriteUInt128BigEndian(bytes, Address);
        return new IPAddress(bytes);
    }

    /// <summary>Field by field: the generated record equality goes through a comparer per field, and endpoints key the
    /// metadata and call-log lookups done for every exchange.</summary>
    public bool Equals(NetworkEndpoint other) => Address == other.Address && Port == other.Port && Family == other.Family;

    /// <summary>A hash of all three parts, folding the 128-bit address into 64 bits first.</summary>
    public override int GetHashCode() => HashCode.Combine((ulong)Address ^ (ulong)(Address >> 64), Port, Family);

    /// <summary>The address without the port, e.g. <c>10.1.0.2</c> or <c>fd00::2</c>.</summary>
    public string AddressText => ToIPAddress().ToString();

    /// <summary><c>10.1.0.2:80</c> or <c>[fd00::2]:80</c>.</summary>
    public override string ToString() =>
        Family == AddressFamily.InterNetworkV6 ? $"[{AddressText}]:{Port}" : $"{AddressText}:{Port}";
}
