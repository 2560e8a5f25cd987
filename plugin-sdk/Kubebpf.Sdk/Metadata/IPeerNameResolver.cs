using Kubebpf.Sdk.Net;

namespace Kubebpf.Sdk.Metadata;

/// <summary>
/// Names addresses outside the cluster from what the agent has learned (for example DNS answers), so that a remote
/// peer is shown as <c>api.example.com</c> rather than as an IP. The host provides one to every plugin, combining
/// all <see cref="IPeerNameSource"/>s (first non-null answer wins, in configuration order).
/// Thread-safe, non-blocking and allocation-free: called on probe drain threads.
/// </summary>
public interface IPeerNameResolver
{
    /// <summary>The name last learned for the address of <paramref name="endpoint"/> (the port is ignored), or null.</summary>
    string? ResolveName(in NetworkEndpoint endpoint);
}

/// <summary>
/// A provider of learned names (the DNS plugin's answer table). Same contract as <see cref="IPeerNameResolver"/>:
/// answer from a bounded in-memory table that expires entries with their source's lifetime (a DNS answer's TTL).
/// </summary>
public interface IPeerNameSource : IPeerNameResolver
{
}
