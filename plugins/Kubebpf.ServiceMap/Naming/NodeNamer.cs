using System.Net;
using System.Net.Sockets;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;

namespace Kubebpf.ServiceMap.Naming;

/// <summary>
/// Names the map node of a workload, or of an address no workload owns: its learned name (a DNS answer), else the
/// named network it falls in, else <see cref="ServiceMapOptions.ExternalName"/> — never one node per IP. Not
/// thread-safe: the aggregator calls it under its lock. Caches are bounded and start over when full.
/// </summary>
internal sealed class NodeNamer
{
    private const int MaxCached = 65_536;

    private readonly IPeerNameResolver? _peerNames;
    private readonly (IPNetwork Network, MapNode Node)[] _networks;
    private readonly MapNode _external;
    private readonly Dictionary<WorkloadIdentity, MapNode> _byIdentity = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, MapNode> _byLearnedName = new(StringComparer.Ordinal);
    private readonly Dictionary<(AddressFamily, UInt128), MapNode> _byAddress = [];

    public NodeNamer(ServiceMapOptions options, IPeerNameResolver? peerNames)
    {
        _peerNames = peerNames;
        _external = new MapNode(options.ExternalName, options.ExternalName, "network");
        _networks = [.. options.Networks
            .SelectMany(n => (n.Value ?? []).Select(block => (Network: IPNetwork.Parse(block), Node: new MapNode(n.Key, n.Key, "network"))))
            .OrderByDescending(n => n.Network.PrefixLength)];
    }

    /// <summary>The node of a workload: <c>namespace/name</c>, or <c>host/name</c> for a node's own stack.</summary>
    public MapNode Of(WorkloadIdentity identity)
    {
        if (!_byIdentity.TryGetValue(identity, out var node))
        {
            node = identity.WorkloadKind == "Host"
                ? new MapNode($"host/{identity.WorkloadName}", identity.WorkloadName, "host")
                : new MapNode(
                    identity.Namespace.Length == 0 ? identity.WorkloadName : $"{identity.Namespace}/{identity.WorkloadName}",
                    identity.WorkloadName,
                    identity.Namespace.Length == 0 ? identity.WorkloadKind : $"{identity.WorkloadKind}, {identity.Namespace}");
            Remember(_byIdentity, identity, node);
        }

        return node;
    }

    /// <summary>The node of an address no workload owns.</summary>
    public MapNode OfAddress(in NetworkEndpoint endpoint)
    {
        var canonical = endpoint.Canonical();
        if (_peerNames?.ResolveName(canonical) is { Length: > 0 } name)
        {
            if (!_byLearnedName.TryGetValue(name, out var learned))
            {
                learned = new MapNode(name, name, "dns");
                Remember(_byLearnedName, name, learned);
            }

            return learned;
        }

        if (_networks.Length == 0)
        {
            return _external;
        }

        var key = (canonical.Family, canonical.Address);
        if (!_byAddress.TryGetValue(key, out var node))
        {
            var address = canonical.ToIPAddress();
            node = _external;
            foreach (var (network, named) in _networks)
            {
                if (network.Contains(address))
                {
                    node = named;
                    break;
                }
            }

            Remember(_byAddress, key, node);
        }

        return node;
    }

    private static void Remember<TKey>(Dictionary<TKey, MapNode> cache, TKey key, MapNode node)
        where TKey : notnull
    {
        if (cache.Count >= MaxCached)
        {
            cache.Clear();
        }

        cache[key] = node;
    }
}
