using Kubebpf.Red.Resources;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Red.Aggregation;

/// <summary>
/// One observed pod (or the unknown workload) as the aggregator keys it: its precomputed tags and the resource tables
/// it shares with the other pods of its workload. Series keys compare it by reference.
/// </summary>
internal sealed class ObservedWorkload(Tag[] tags, WorkloadResources resources)
{
    /// <summary>node, namespace, workload_kind, workload, pod, service; empty values left out.</summary>
    public Tag[] Tags { get; } = tags;

    /// <summary>The resources of the workload this pod belongs to, per protocol.</summary>
    public WorkloadResources Resources { get; } = resources;

    /// <summary>The flush window in which an exchange last arrived; idle workloads are dropped at flush.</summary>
    public long LastUsedWindow { get; set; }

    /// <summary>The tags of <paramref name="identity"/> (null: the unknown workload).</summary>
    public static Tag[] TagsOf(WorkloadIdentity? identity)
    {
        Span<Tag> tags = new Tag[WorkloadTags.MaxTags];
        return tags[..WorkloadTags.AppendWorkload(tags, 0, identity)].ToArray();
    }
}

/// <summary>The identity fields that become tags: two identities equal here share a series even as distinct instances.</summary>
internal readonly record struct WorkloadKey(string Node, string Namespace, string Kind, string Name, string Pod, string Service)
{
    public static WorkloadKey Of(WorkloadIdentity identity) =>
        new(identity.Node, identity.Namespace, identity.WorkloadKind, identity.WorkloadName, identity.Pod, identity.Service);

    /// <summary>The workload the resource cap applies to: pods of one workload share their resources.</summary>
    public WorkloadNameKey Workload => new(Namespace, Kind, Name);
}

/// <summary>Namespace, kind and name of a workload.</summary>
internal readonly record struct WorkloadNameKey(string Namespace, string Kind, string Name);
