using System.Net;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.ServiceMap;

/// <summary>The plugin's configuration section (<c>Plugins:&lt;instance&gt;</c>).</summary>
public sealed class ServiceMapOptions : IValidatedOptions
{
    /// <summary>The <c>node</c> tag of every point: this agent's node (as the agent's own <c>Agent:NodeName</c>).</summary>
    public string NodeName { get; set; } = Environment.GetEnvironmentVariable("NODE_NAME") ?? Environment.MachineName;

    /// <summary>The map node of addresses no metadata source and no learned name resolve, and no network below names.</summary>
    public string ExternalName { get; set; } = "external";

    /// <summary>
    /// Named networks for addresses outside the cluster, by name: CIDR blocks (<c>"office": ["172.16.0.0/16"]</c>).
    /// The longest matching prefix wins; what none matches is <see cref="ExternalName"/>.
    /// </summary>
    public Dictionary<string, string[]> Networks { get; set; } = [];

    /// <summary>Edges (source, target, port, service, and protocol for calls) held per window in each layer; exchanges and connections of further edges are counted and left out.</summary>
    public int MaxEdges { get; set; } = 10_000;

    /// <summary>Distinct destination ports kept per (source, target) in a window; further ports are counted under port 0 (<c>port="other"</c>), so a port scan makes one edge.</summary>
    public int MaxPortsPerPeer { get; set; } = 16;

    /// <summary>Look service virtual IPs up in the kernel's connection tracking (netlink) to name the backend a client really reached.</summary>
    public bool ResolveServiceAddresses { get; set; } = true;

    /// <summary>Where the current map of this node is written at each flush, for <c>kubebpf map</c>; empty: not written.</summary>
    public string SnapshotFile { get; set; } = "/run/kubebpf/service-map.json";

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(NodeName))
        {
            yield return "NodeName must not be empty.";
        }

        if (string.IsNullOrWhiteSpace(ExternalName))
        {
            yield return "ExternalName must not be empty.";
        }

        if (MaxEdges is < 1 or > 1_000_000)
        {
            yield return $"MaxEdges must be between 1 and 1000000, got {MaxEdges}.";
        }

        if (MaxPortsPerPeer is < 1 or > 65535)
        {
            yield return $"MaxPortsPerPeer must be between 1 and 65535, got {MaxPortsPerPeer}.";
        }

        foreach (var (name, blocks) in Networks)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                yield return "Networks: a network name is empty.";
            }

            foreach (var block in blocks ?? [])
            {
                if (!IPNetwork.TryParse(block, out _))
                {
                    yield return $"Networks:{name}: '{block}' is not a CIDR block such as 10.0.0.0/8.";
                }
            }
        }
    }
}
