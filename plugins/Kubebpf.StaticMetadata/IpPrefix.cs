using System.Net;
using System.Net.Sockets;
using Kubebpf.Sdk.Net;

namespace Kubebpf.StaticMetadata;

/// <summary>An address with a prefix length: a single address when the length is full (32 or 128), else a CIDR block.</summary>
internal readonly record struct IpPrefix(AddressFamily Family, UInt128 Network, int Length)
{
    public int FullLength => Family == AddressFamily.InterNetwork ? 32 : 128;

    public bool IsSingleAddress => Length == FullLength;

    public UInt128 Mask => MaskOf(Family, Length);

    /// <summary>Parses <c>10.1.0.2</c>, <c>fd00::2</c>, <c>10.1.0.0/24</c> or <c>fd00::/64</c>; host bits of a block are cleared.</summary>
    public static bool TryParse(string text, out IpPrefix prefix)
    {
        prefix = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address))
        {
            return false;
        }

        var endpoint = NetworkEndpoint.From(address, 0);
        var full = endpoint.Family == AddressFamily.InterNetwork ? 32 : 128;
        var length = full;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), out length) || length < 0 || length > full))
        {
            return false;
        }

        prefix = new IpPrefix(endpoint.Family, endpoint.Address & MaskOf(endpoint.Family, length), length);
        return true;
    }

    public bool Contains(in NetworkEndpoint endpoint) =>
        endpoint.Family == Family && (endpoint.Address & Mask) == Network;

    public override string ToString() =>
        IsSingleAddress ? new NetworkEndpoint(Family, Network, 0).AddressText : $"{new NetworkEndpoint(Family, Network, 0).AddressText}/{Length}";

    private static UInt128 MaskOf(AddressFamily family, int length)
    {
        var full = family == AddressFamily.InterNetwork ? 32 : 128;
        var allOnes = family == AddressFamily.InterNetwork ? uint.MaxValue : UInt128.MaxValue;
        return length == 0 ? UInt128.Zero : (allOnes << (full - length)) & allOnes;
    }
}
