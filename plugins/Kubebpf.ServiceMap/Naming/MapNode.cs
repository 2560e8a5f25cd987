namespace Kubebpf.ServiceMap.Naming;

/// <summary>A node of the map: a workload (<c>namespace/name</c>), a host, a learned name or a network outside the cluster.</summary>
/// <param name="Id">Unique in the cluster: what edges' <c>source</c> and <c>target</c> hold.</param>
/// <param name="Title">The short name shown on the node.</param>
/// <param name="Subtitle">What it is: the namespace and workload kind, <c>host</c>, <c>dns</c> or <c>network</c>.</param>
internal sealed record MapNode(string Id, string Title, string Subtitle);
