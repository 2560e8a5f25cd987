using Kubebpf.ServiceMap.Naming;

namespace Kubebpf.ServiceMap.Aggregation;

/// <summary>
/// One edge of a layer: who called whom, on which destination port (0: ports beyond the cap), through which service
/// (empty when the client called the address of its target directly), and in which protocol (empty for connections).
/// </summary>
/// <remarks>Hashed from the nodes' precomputed hashes and the port: the few services and protocols of one pair of
/// nodes are told apart by equality, without hashing their text for every event.</remarks>
internal readonly record struct EdgeKey(MapNode Source, MapNode Target, ushort Port, string Service, string Protocol)
{
    /// <summary>The graph edge it belongs to: every port, service and protocol between the same two nodes.</summary>
    public PairKey Pair => new(Source, Target);

    public bool Equals(EdgeKey other) =>
        Port == other.Port && Source.Equals(other.Source) && Target.Equals(other.Target)
        && string.Equals(Service, other.Service, StringComparison.Ordinal) && string.Equals(Protocol, other.Protocol, StringComparison.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Source.GetHashCode(), Target.GetHashCode(), Port);
}

/// <summary>The two ends of a graph edge.</summary>
internal readonly record struct PairKey(MapNode Source, MapNode Target)
{
    /// <summary>The graph edge's id, unique in the cluster.</summary>
    public string Id => $"{Source.Id}->{Target.Id}";

    public bool Equals(PairKey other) => Source.Equals(other.Source) && Target.Equals(other.Target);

    public override int GetHashCode() => HashCode.Combine(Source.GetHashCode(), Target.GetHashCode());
}
