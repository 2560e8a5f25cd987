using Kubebpf.Sdk.Metadata;

namespace Kubebpf.Profiler.Attribution;

/// <summary>Whose samples a profile holds: a pod (named by the metadata plugins) or this host.</summary>
/// <param name="Namespace">The pod's namespace; empty for the host.</param>
/// <param name="Workload">The owning workload; empty for the host.</param>
/// <param name="Pod">The pod name, or <see cref="HostPod"/>.</param>
internal sealed record ProfileOwner(string Namespace, string Workload, string Pod)
{
    /// <summary>The pod tag of processes that belong to no pod (the node's own processes).</summary>
    public const string HostPod = "host";

    /// <summary>The node's own processes.</summary>
    public static ProfileOwner Host { get; } = new("", "", HostPod);

    /// <summary>The owner for a resolved workload identity.</summary>
    public static ProfileOwner Of(WorkloadIdentity identity) => new(identity.Namespace, identity.WorkloadName, identity.Pod);
}
