using System.Collections.Frozen;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;

namespace Kubebpf.StaticMetadata;

/// <summary>
/// Immutable lookup tables built from one version of the file. Lookups read frozen dictionaries and an array, so they
/// are thread-safe and allocation-free; a reload builds a new snapshot and swaps the reference.
/// </summary>
internal sealed class WorkloadSnapshot
{
    private const ushort AnyPort = 0;

    // Exact addresses keyed with the configured port, or port 0 for "any port".
    private readonly FrozenDictionary<NetworkEndpoint, WorkloadIdentity> _byEndpoint;
    private readonly FrozenDictionary<string, WorkloadIdentity> _byInterface;
    // CIDR blocks, longest prefix first and port-specific before any-port, so the first match is the most specific.
    private readonly BlockRule[] _blocks;

    private WorkloadSnapshot(
        FrozenDictionary<NetworkEndpoint, WorkloadIdentity> byEndpoint,
        FrozenDictionary<string, WorkloadIdentity> byInterface,
        BlockRule[] blocks,
        int workloadCount)
    {
        _byEndpoint = byEndpoint;
        _byInterface = byInterface;
        _blocks = blocks;
        WorkloadCount = workloadCount;
    }

    public static WorkloadSnapshot Empty { get; } = new(
        FrozenDictionary<NetworkEndpoint, WorkloadIdentity>.Empty, FrozenDictionary<string, WorkloadIdentity>.Empty, [], 0);

    public int WorkloadCount { get; }

    /// <summary>Builds the tables; two entries claiming the same interface, address and port are an error naming both lines.</summary>
    public static WorkloadSnapshot Build(string path, IReadOnlyList<WorkloadEntry> entries)
    {
        var byEndpoint = new Dictionary<NetworkEndpoint, WorkloadEntry>();
        var byInterface = new Dictionary<string, WorkloadEntry>(StringComparer.Ordinal);
        var blocks = new Dictionary<(IpPrefix, ushort), WorkloadEntry>();
        foreach (var entry in entries)
        {
            foreach (var name in entry.Interfaces)
            {
                Claim(byInterface, name, entry, path, $"interface {name}");
            }

            foreach (var address in entry.Addresses)
            {
                foreach (var port in entry.Ports.Count == 0 ? [AnyPort] : entry.Ports)
                {
                    var what = port == AnyPort ? $"address {address}" : $"address {address} port {port}";
                    if (address.IsSingleAddress)
                    {
                        Claim(byEndpoint, new NetworkEndpoint(address.Family, address.Network, port), entry, path, what);
                    }
                    else
                    {
                        Claim(blocks, (address, port), entry, path, what);
                    }
                }
            }
        }

        var blockRules = blocks
            .Select(b => new BlockRule(b.Key.Item1, b.Key.Item2, b.Value.Identity))
            .OrderByDescending(r => r.Prefix.Length)
            .ThenBy(r => r.Port == AnyPort)
            .ToArray();
        return new WorkloadSnapshot(
            byEndpoint.ToFrozenDictionary(e => e.Key, e => e.Value.Identity),
            byInterface.ToFrozenDictionary(e => e.Key, e => e.Value.Identity, StringComparer.Ordinal),
            blockRules,
            entries.Count);
    }

    public WorkloadIdentity? ResolveEndpoint(in NetworkEndpoint endpoint)
    {
        var key = endpoint.Canonical();
        if (_byEndpoint.TryGetValue(key, out var identity)
            || (key.Port != AnyPort && _byEndpoint.TryGetValue(key.WithPort(AnyPort), out identity)))
        {
            return identity;
        }

        foreach (var rule in _blocks)
        {
            if ((rule.Port == AnyPort || rule.Port == key.Port) && rule.Prefix.Contains(key))
            {
                return rule.Identity;
            }
        }

        return null;
    }

    public WorkloadIdentity? ResolveInterface(string interfaceName) =>
        _byInterface.TryGetValue(interfaceName, out var identity) ? identity : null;

    private static void Claim<TKey>(Dictionary<TKey, WorkloadEntry> table, TKey key, WorkloadEntry entry, string path, string what)
        where TKey : notnull
    {
        if (table.TryGetValue(key, out var owner) && !ReferenceEquals(owner, entry))
        {
            throw new WorkloadFileException(path, entry.Line,
                $"{what} of {entry.Identity.Namespace}/{entry.Identity.Pod} is already claimed by " +
                $"{owner.Identity.Namespace}/{owner.Identity.Pod} (line {owner.Line})");
        }

        table[key] = entry;
    }

    private readonly record struct BlockRule(IpPrefix Prefix, ushort Port, WorkloadIdentity Identity);
}
