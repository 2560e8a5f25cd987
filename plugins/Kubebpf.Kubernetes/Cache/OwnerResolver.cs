namespace Kubebpf.Kubernetes.Cache;

/// <summary>Resolves owners to the workload users think in: ReplicaSet to Deployment, Job to CronJob.</summary>
internal sealed class OwnerResolver
{
    private readonly Dictionary<(string, string), OwnerRef?> _replicaSets = [];
    private readonly Dictionary<(string, string), OwnerRef?> _jobs = [];

    public OwnerResolver(IEnumerable<OwnedRecord> replicaSets, IEnumerable<OwnedRecord> jobs)
    {
        foreach (var replicaSet in replicaSets)
        {
            _replicaSets[(replicaSet.Namespace, replicaSet.Name)] = replicaSet.Owner;
        }

        foreach (var job in jobs)
        {
            _jobs[(job.Namespace, job.Name)] = job.Owner;
        }
    }

    /// <summary>
    /// The workload of a pod with this controlling owner: a ReplicaSet's Deployment, a Job's CronJob, else the owner
    /// itself (StatefulSet, DaemonSet, a bare ReplicaSet or Job, ...); a pod without owner is its own workload.
    /// </summary>
    public (string Kind, string Name) Resolve(string @namespace, string pod, OwnerRef? owner) => owner switch
    {
        null => ("Pod", pod),
        { Kind: "ReplicaSet" } => Above(_replicaSets, @namespace, owner.Name, "Deployment") ?? ("ReplicaSet", owner.Name),
        { Kind: "Job" } => Above(_jobs, @namespace, owner.Name, "CronJob") ?? ("Job", owner.Name),
        _ => (owner.Kind, owner.Name),
    };

    /// <summary>
    /// The workload of another node's pod, known only by name from an endpoint slice: a ReplicaSet's or Job's pods
    /// are named after it plus a suffix, a StatefulSet's after it plus an ordinal. Anything else is its own workload.
    /// </summary>
    public (string Kind, string Name) InferFromPodName(string @namespace, string pod)
    {
        var dash = pod.LastIndexOf('-');
        if (dash <= 0)
        {
            return ("Pod", pod);
        }

        var prefix = pod[..dash];
        if (_replicaSets.ContainsKey((@namespace, prefix)))
        {
            return Resolve(@namespace, pod, new OwnerRef("ReplicaSet", prefix));
        }

        if (_jobs.ContainsKey((@namespace, prefix)))
        {
            return Resolve(@namespace, pod, new OwnerRef("Job", prefix));
        }

        var suffix = pod.AsSpan(dash + 1);
        return suffix.Length > 0 && !suffix.ContainsAnyExceptInRange('0', '9') ? ("StatefulSet", prefix) : ("Pod", pod);
    }

    private static (string, string)? Above(Dictionary<(string, string), OwnerRef?> owned, string @namespace, string name, string kind) =>
        owned.TryGetValue((@namespace, name), out var owner) && owner is not null && owner.Kind == kind ? (kind, owner.Name) : null;
}
