using System.Collections.Frozen;
using Kubebpf.Kubernetes.Cache;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Kubernetes;

/// <summary>What the snapshot is built from: copies of the stores and the discovered interfaces.</summary>
internal sealed record MetadataInputs(
    string Node,
    PodRecord[] Pods,
    ServiceRecord[] Services,
    SliceRecord[] Slices,
    OwnedRecord[] ReplicaSets,
    OwnedRecord[] Jobs,
    IReadOnlyDictionary<string, string[]> InterfacesByPodUid);

/// <summary>
/// Immutable lookup tables built from the caches: lookups read frozen dictionaries only, so they are thread-safe and
/// allocation-free; each change builds a new snapshot and swaps the reference.
/// </summary>
internal sealed class MetadataSnapshot
{
    private const ushort AnyPort = 0;
    private readonly FrozenDictionary<NetworkEndpoint, WorkloadIdentity> _byEndpoint;
    private readonly FrozenDictionary<string, WorkloadIdentity> _byInterface;

    private MetadataSnapshot(FrozenDictionary<NetworkEndpoint, WorkloadIdentity> byEndpoint, FrozenDictionary<string, WorkloadIdentity> byInterface)
    {
        _byEndpoint = byEndpoint;
        _byInterface = byInterface;
    }

    public static MetadataSnapshot Empty { get; } = new(FrozenDictionary<NetworkEndpoint, WorkloadIdentity>.Empty, FrozenDictionary<string, WorkloadIdentity>.Empty);

    /// <summary>Addresses (with a port, or port 0 for any) known.</summary>
    public int EndpointCount => _byEndpoint.Count;

    /// <summary>Host interfaces attributed to pods.</summary>
    public int InterfaceCount => _byInterface.Count;

    /// <summary>
    /// Builds the tables. Precedence for one address: this node's pods (from the pod watch) over endpoint slices
    /// (other nodes' pods), terminated pods never (their IPs are reused).
    /// </summary>
    public static MetadataSnapshot Build(MetadataInputs inputs)
    {
        var owners = new OwnerResolver(inputs.ReplicaSets, inputs.Jobs);
        var servicesByPod = ServicesByPod(inputs.Slices);
        var byEndpoint = new Dictionary<NetworkEndpoint, WorkloadIdentity>();
        var byInterface = new Dictionary<string, WorkloadIdentity>(StringComparer.Ordinal);

        // Other nodes' pods and endpoints not backed by a pod, by the slices of their services.
        var workloadsByService = new Dictionary<(string, string), (string Kind, string Name)?>();
        foreach (var slice in inputs.Slices.OrderBy(s => s.Namespace, StringComparer.Ordinal).ThenBy(s => s.Service, StringComparer.Ordinal))
        {
            foreach (var endpoint in slice.Endpoints)
            {
                var (kind, name) = endpoint.Pod.Length > 0 ? owners.InferFromPodName(slice.Namespace, endpoint.Pod) : ("Service", slice.Service);
                var service = endpoint.Pod.Length > 0 && servicesByPod.TryGetValue((slice.Namespace, endpoint.Pod), out var first) ? first : slice.Service;
                var identity = new WorkloadIdentity(slice.Namespace, endpoint.Pod, kind, name, service, endpoint.Node);
                foreach (var address in endpoint.Addresses)
                {
                    byEndpoint.TryAdd(address, identity);
                }

                var key = (slice.Namespace, slice.Service);
                workloadsByService[key] = workloadsByService.TryGetValue(key, out var seen) && seen != (kind, name) ? null : (kind, name);
            }
        }

        // Cluster IPs: the service, and its workload when all its endpoints belong to one.
        foreach (var service in inputs.Services)
        {
            var (kind, name) = workloadsByService.GetValueOrDefault((service.Namespace, service.Name)) ?? ("Service", service.Name);
            var identity = new WorkloadIdentity(service.Namespace, "", kind, name, service.Name, "");
            foreach (var address in service.ClusterAddresses)
            {
                byEndpoint[address] = identity;
            }
        }

        // This node's pods; its own addresses name the node on every port no host-network pod declares.
        var nodeIdentity = new WorkloadIdentity("", inputs.Node, "Host", inputs.Node, "", inputs.Node);
        foreach (var pod in inputs.Pods.Where(p => !p.Terminated).OrderBy(p => p.Namespace, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal))
        {
            var (kind, name) = owners.Resolve(pod.Namespace, pod.Name, pod.Owner);
            var identity = new WorkloadIdentity(
                pod.Namespace, pod.Name, kind, name, servicesByPod.GetValueOrDefault((pod.Namespace, pod.Name), ""), pod.Node)
            {
                Labels = pod.Labels,
            };
            foreach (var host in pod.HostAddresses)
            {
                byEndpoint[host] = nodeIdentity;
            }

            if (pod.HostNetwork)
            {
                foreach (var host in pod.HostAddresses)
                {
                    foreach (var port in pod.Ports)
                    {
                        byEndpoint[host.WithPort(port)] = identity;
                    }
                }

                continue;
            }

            foreach (var address in pod.Addresses)
            {
                byEndpoint[address] = identity;
            }

            if (inputs.InterfacesByPodUid.TryGetValue(pod.Uid, out var interfaces))
            {
                foreach (var name2 in interfaces)
                {
                    byInterface[name2] = identity;
                }
            }
        }

        return new MetadataSnapshot(byEndpoint.ToFrozenDictionary(), byInterface.ToFrozenDictionary(StringComparer.Ordinal));
    }

    public WorkloadIdentity? ResolveEndpoint(in NetworkEndpoint endpoint)
    {
        var key = endpoint.Canonical();
        return _byEndpoint.TryGetValue(key, out var identity)
            || (key.Port != AnyPort && _byEndpoint.TryGetValue(key.WithPort(AnyPort), out identity))
            ? identity
            : null;
    }

    public WorkloadIdentity? ResolveInterface(string interfaceName) =>
        _byInterface.TryGetValue(interfaceName, out var identity) ? identity : null;

    /// <summary>The service of each pod behind one: the first by name when several select it.</summary>
    private static Dictionary<(string, string), string> ServicesByPod(SliceRecord[] slices)
    {
        var services = new Dictionary<(string, string), string>();
        foreach (var slice in slices)
        {
            foreach (var endpoint in slice.Endpoints)
            {
                var key = (slice.Namespace, endpoint.Pod);
                if (endpoint.Pod.Length > 0 && (!services.TryGetValue(key, out var current) || string.CompareOrdinal(slice.Service, current) < 0))
                {
                    services[key] = slice.Service;
                }
            }
        }

        return services;
    }
}
