using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Red;

/// <summary>The tags both measurements share, in one order; empty values are left out.</summary>
internal static class WorkloadTags
{
    /// <summary>The workload tag of an exchange whose observed endpoint does not resolve.</summary>
    public const string UnknownWorkload = "unknown";

    /// <summary>The most tags any point of this plugin has.</summary>
    public const int MaxTags = 13;

    /// <summary>The tag value of a direction.</summary>
    public static string Direction(TrafficDirection direction) => direction == TrafficDirection.In ? "in" : "out";

    /// <summary>Appends node, namespace, workload_kind, workload, pod and service of <paramref name="workload"/>.</summary>
    public static int AppendWorkload(Span<Tag> tags, int count, WorkloadIdentity? workload)
    {
        if (workload is null)
        {
            return Append(tags, count, "workload", UnknownWorkload);
        }

        count = Append(tags, count, "node", workload.Node);
        count = Append(tags, count, "namespace", workload.Namespace);
        count = Append(tags, count, "workload_kind", workload.WorkloadKind);
        count = Append(tags, count, "workload", workload.WorkloadName);
        count = Append(tags, count, "pod", workload.Pod);
        return Append(tags, count, "service", workload.Service);
    }

    /// <summary>Appends the tag unless its value is empty; returns the new count.</summary>
    public static int Append(Span<Tag> tags, int count, string key, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return count;
        }

        tags[count] = new Tag(key, value);
        return count + 1;
    }
}
