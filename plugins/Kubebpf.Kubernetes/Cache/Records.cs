using Kubebpf.Sdk.Net;

namespace Kubebpf.Kubernetes.Cache;

/// <summary>
/// The fields of a pod this plugin uses; everything else of the API object is dropped on arrival. Ports are kept for
/// host-network pods only (they are attributed by port); labels are kept because only this node's pods are watched.
/// </summary>
internal sealed record PodRecord(
    string Uid,
    string Namespace,
    string Name,
    string Node,
    bool HostNetwork,
    bool Terminated,
    NetworkEndpoint[] Addresses,
    NetworkEndpoint[] HostAddresses,
    ushort[] Ports,
    OwnerRef? Owner,
    IReadOnlyDictionary<string, string> Labels);

/// <summary>The controlling owner of an object.</summary>
internal sealed record OwnerRef(string Kind, string Name);

/// <summary>A service's cluster IPs (none for headless services).</summary>
internal sealed record ServiceRecord(string Namespace, string Name, NetworkEndpoint[] ClusterAddresses);

/// <summary>The endpoints of one EndpointSlice, with the service it belongs to.</summary>
internal sealed record SliceRecord(string Namespace, string Service, SliceEndpoint[] Endpoints);

/// <summary>One endpoint of a slice: its addresses and the pod behind it (name empty when it is not a pod).</summary>
internal sealed record SliceEndpoint(NetworkEndpoint[] Addresses, string Pod, string Node);

/// <summary>A ReplicaSet or Job and its controlling owner (Deployment, CronJob), or null.</summary>
internal sealed record OwnedRecord(string Namespace, string Name, OwnerRef? Owner);
