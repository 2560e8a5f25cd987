using System.Net;
using k8s.Models;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Kubernetes.Cache;

/// <summary>Turns API objects into the small records the cache keeps (everything else is dropped at once).</summary>
internal static class Projections
{
    private const string ServiceNameLabel = "kubernetes.io/service-name";
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    public static PodRecord Pod(V1Pod pod)
    {
        var hostNetwork = pod.Spec?.HostNetwork == true;
        var phase = pod.Status?.Phase;
        return new PodRecord(
            pod.Metadata.Uid ?? "",
            Intern(pod.Metadata.NamespaceProperty),
            pod.Metadata.Name,
            Intern(pod.Spec?.NodeName),
            hostNetwork,
            phase is "Succeeded" or "Failed",
            Addresses(pod.Status?.PodIPs?.Select(ip => ip.Ip), pod.Status?.PodIP),
            Addresses(pod.Status?.HostIPs?.Select(ip => ip.Ip), pod.Status?.HostIP),
            hostNetwork ? HostNetworkPorts(pod.Spec!) : [],
            Controller(pod.Metadata.OwnerReferences),
            pod.Metadata.Labels is { Count: > 0 } labels ? new Dictionary<string, string>(labels, StringComparer.Ordinal) : NoLabels);
    }

    /// <summary>Headless services (clusterIP None) keep no address.</summary>
    public static ServiceRecord Service(V1Service service) => new(
        Intern(service.Metadata.NamespaceProperty),
        service.Metadata.Name,
        Addresses(service.Spec?.ClusterIPs, service.Spec?.ClusterIP));

    /// <summary>Slices not managed for a service (no <c>kubernetes.io/service-name</c> label) are not kept.</summary>
    public static SliceRecord? Slice(V1EndpointSlice slice)
    {
        if (slice.Metadata.Labels is null || !slice.Metadata.Labels.TryGetValue(ServiceNameLabel, out var service) || service.Length == 0)
        {
            return null;
        }

        var endpoints = slice.Endpoints?.Select(e => new SliceEndpoint(
            Addresses(e.Addresses, null),
            e.TargetRef is { Kind: "Pod" } target ? target.Name : "",
            Intern(e.NodeName))).ToArray() ?? [];
        return new SliceRecord(Intern(slice.Metadata.NamespaceProperty), service, endpoints);
    }

    public static OwnedRecord ReplicaSet(V1ReplicaSet replicaSet) =>
        new(Intern(replicaSet.Metadata.NamespaceProperty), replicaSet.Metadata.Name, Controller(replicaSet.Metadata.OwnerReferences));

    public static OwnedRecord Job(V1Job job) =>
        new(Intern(job.Metadata.NamespaceProperty), job.Metadata.Name, Controller(job.Metadata.OwnerReferences));

    /// <summary>The owner with <c>controller: true</c>, else the first owner.</summary>
    private static OwnerRef? Controller(IList<V1OwnerReference>? owners)
    {
        var owner = owners?.FirstOrDefault(o => o.Controller == true) ?? owners?.FirstOrDefault();
        return owner is null ? null : new OwnerRef(Intern(owner.Kind), owner.Name);
    }

    /// <summary>The TCP ports a host-network pod declares (container ports, which equal its host ports).</summary>
    private static ushort[] HostNetworkPorts(V1PodSpec spec) =>
        [.. spec.Containers.Concat(spec.InitContainers ?? [])
            .SelectMany(c => c.Ports ?? [])
            .Where(p => p.Protocol is null or "TCP" && p.ContainerPort is > 0 and <= ushort.MaxValue)
            .Select(p => (ushort)p.ContainerPort)
            .Distinct()];

    private static NetworkEndpoint[] Addresses(IEnumerable<string>? all, string? single)
    {
        var texts = all?.ToList() is { Count: > 0 } list ? list : single is { Length: > 0 } ? [single] : [];
        var addresses = new List<NetworkEndpoint>(texts.Count);
        foreach (var text in texts)
        {
            if (IPAddress.TryParse(text, out var address))
            {
                addresses.Add(NetworkEndpoint.From(address, 0));
            }
        }

        return [.. addresses];
    }

    /// <summary>Namespaces, node names and owner kinds repeat across thousands of objects: keep one copy of each.</summary>
    private static string Intern(string? value) => string.IsNullOrEmpty(value) ? "" : string.Intern(value);
}
