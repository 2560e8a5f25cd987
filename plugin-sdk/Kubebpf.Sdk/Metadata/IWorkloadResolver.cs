using Kubebpf.Sdk.Net;

namespace Kubebpf.Sdk.Metadata;

/// <summary>
/// Looks up workload identity. The host provides one to every plugin, combining all
/// <see cref="IWorkloadMetadataSource"/>s (first non-null answer wins, in configuration order).
/// Thread-safe, non-blocking and allocation-free: called on probe drain threads for every exchange.
/// </summary>
public interface IWorkloadResolver
{
    /// <summary>The workload owning <paramref name="endpoint"/> (by IP; the port disambiguates host-network workloads), or null.</summary>
    WorkloadIdentity? ResolveEndpoint(in NetworkEndpoint endpoint);

    /// <summary>The workload whose network interface (e.g. a pod's host-side veth) is <paramref name="interfaceName"/>, or null.</summary>
    WorkloadIdentity? ResolveInterface(string interfaceName);
}

/// <summary>
/// A provider of workload identity (static file, Kubernetes API). Same thread-safety and allocation contract as
/// <see cref="IWorkloadResolver"/>: answer from an in-memory cache kept up to date in the background.
/// </summary>
public interface IWorkloadMetadataSource : IWorkloadResolver
{
}
