namespace Kubebpf.Sdk.Metadata;

/// <summary>
/// Who an endpoint is, in the terms users think in. Instances are created by metadata sources and shared:
/// resolving must not allocate, so sources cache and hand out the same instance.
/// </summary>
/// <param name="Namespace">Kubernetes namespace (or a free-form group for standalone hosts).</param>
/// <param name="Pod">Pod name (or process / host name standalone).</param>
/// <param name="WorkloadKind">Deployment, StatefulSet, DaemonSet, CronJob, Job, Pod, or Host.</param>
/// <param name="WorkloadName">The owning workload's name.</param>
/// <param name="Service">The service selecting it, or empty.</param>
/// <param name="Node">The node it runs on, or empty.</param>
public sealed record WorkloadIdentity(
    string Namespace,
    string Pod,
    string WorkloadKind,
    string WorkloadName,
    string Service,
    string Node)
{
    /// <summary>Labels (copied from the pod); empty when unknown.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}
