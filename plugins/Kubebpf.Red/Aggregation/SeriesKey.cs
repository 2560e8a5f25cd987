using System.Runtime.CompilerServices;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Red.Aggregation;

/// <summary>
/// A resource-level series. The workload, protocol and resource are shared instances (the resource from the workload's
/// <see cref="Resources.ResourceTable"/>), so they compare and hash by reference: no resource is hashed twice per
/// event. The operation compares by value (a reference check first): a protocol's canonical operations are short,
/// and a parser that hands out a new string per request must still land in one series.
/// </summary>
internal readonly struct SeriesKey(ObservedWorkload workload, TrafficDirection direction, ProtocolDescriptor protocol, string operation, string resource)
    : IEquatable<SeriesKey>
{
    public ObservedWorkload Workload { get; } = workload;

    public TrafficDirection Direction { get; } = direction;

    public ProtocolDescriptor Protocol { get; } = protocol;

    public string Operation { get; } = operation;

    public string Resource { get; } = resource;

    public bool Equals(SeriesKey other) =>
        ReferenceEquals(Workload, other.Workload)
        && Direction == other.Direction
        && ReferenceEquals(Protocol, other.Protocol)
        && ReferenceEquals(Resource, other.Resource)
        && string.Equals(Operation, other.Operation, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is SeriesKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(
        RuntimeHelpers.GetHashCode(Workload),
        Direction,
        RuntimeHelpers.GetHashCode(Protocol),
        StringComparer.Ordinal.GetHashCode(Operation),
        RuntimeHelpers.GetHashCode(Resource));
}

/// <summary>The roll-up of one workload pod, direction and protocol over all its operations and resources.</summary>
internal readonly record struct RollupKey(ObservedWorkload Workload, TrafficDirection Direction, ProtocolDescriptor Protocol)
{
    public bool Equals(RollupKey other) =>
        ReferenceEquals(Workload, other.Workload) && Direction == other.Direction && ReferenceEquals(Protocol, other.Protocol);

    public override int GetHashCode() =>
        HashCode.Combine(RuntimeHelpers.GetHashCode(Workload), Direction, RuntimeHelpers.GetHashCode(Protocol));
}
