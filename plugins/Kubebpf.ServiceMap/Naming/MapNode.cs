namespace Kubebpf.ServiceMap.Naming;

/// <summary>A node of the map: a workload (<c>namespace/name</c>), a host, a learned name or a network outside the cluster.</summary>
/// <param name="Id">Unique in the cluster: what edges' <c>source</c> and <c>target</c> hold.</param>
/// <param name="Title">The short name shown on the node.</param>
/// <param name="Subtitle">What it is: the namespace and workload kind, <c>host</c>, <c>dns</c> or <c>network</c>.</param>
/// <remarks>
/// Equal by <see cref="Id"/> alone, with its hash computed once: nodes key the edge tables for every event, and the
/// namer hands out the same instance for a name, so comparisons are usually one reference check.
/// </remarks>
internal sealed record MapNode(string Id, string Title, string Subtitle)
{
    private readonly int _hash = StringComparer.Ordinal.GetHashCode(Id);

    public bool Equals(MapNode? other) => ReferenceEquals(this, other) || (other is not null && _hash == other._hash && Id == other.Id);

    public override int GetHashCode() => _hash;
}
