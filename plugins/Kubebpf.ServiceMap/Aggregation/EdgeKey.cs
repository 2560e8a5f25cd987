using Kubebpf.ServiceMap.Naming;

namespace Kubebpf.ServiceMap.Aggregation;

/// <summary>
/// One edge of a layer: who called whom, on which destination port (0: ports beyond the cap), through which service
/// (empty when the client called the address of its target directly), and in which protocol (empty for connections).
/// </summary>
internal readonly record struct EdgeKey(MapNode Source, MapNode Target, ushort Port, string Service, string Protocol)
{
    /// <summary>The graph edge it belongs to: every port, service and protocol between the same two nodes.</summary>
    public PairKey Pair => new(Source, Target);
}

/// <summary>The two ends of a graph edge.</summary>
internal readonly record struct PairKey(MapNode Source, MapNode Target)
{
    /// <summary>The graph edge's id, unique in the cluster.</summary>
    public string Id => $"{Source.Id}->{Target.Id}";
}
