using System.Runtime.CompilerServices;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Red.Aggregation;

/// <summary>
/// A resource-level series. The workload, protocol and resource are shared instances (the resource from the workload's
/// <see cref="Kubebpf.Sdk.Protocols.ResourceTable"/>), so they compare and hash by reference: no resource is hashed twice per
/// event. The operation compares by value (a reference check first), so that a parser handing out a new string per
/// request still lands in one series; it hashes by length and end characters only, which tells a protocol's few
/// canonical operations apart without reading them whole. The status, null unless the protocol groups its R.E.D. by
/// status, compares and hashes the same way.
/// </summary>
internal readonly struct SeriesKey(
    ObservedWorkload workload, TrafficDirection direction, ProtocolDescriptor protocol, string operation, string resource, string? status)
    : IEquatable<SeriesKey>
{
    public ObservedWorkload Workload { get; } = workload;

    public TrafficDirection Direction { get; } = direction;

    public ProtocolDescriptor Protocol { get; } = protocol;

    public string Operation { get; } = operation;

    public string Resource { get; } = resource;

    /// <summary>The exchange's status when <see cref="ProtocolDescriptor.RedGroupsByStatus"/> is set, else null.</summary>
    public string? Status { get; } = status;

    public bool Equals(SeriesKey other) =>
        ReferenceEquals(Workload, other.Workload)
        && Direction == other.Direction
        && ReferenceEquals(Protocol, other.Protocol)
        && ReferenceEquals(Resource, other.Resource)
        && string.Equals(Operation, other.Operation, StringComparison.Ordinal)
        && string.Equals(Status, other.Status, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is SeriesKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(
        RuntimeHelpers.GetHashCode(Workload),
        Direction,
        RuntimeHelpers.GetHashCode(Protocol),
        ShortStringHash(Operation),
        RuntimeHelpers.GetHashCode(Resource),
        ShortStringHash(Status));

    private static int ShortStringHash(string? value) =>
        string.IsNullOrEmpty(value) ? 0 : (value.Length << 16) ^ (value[0] << 8) ^ value[^1];
}

/// <summary>The roll-up of one workload pod, direction and protocol over all its operations, resources and statuses.</summary>
internal readonly record struct RollupKey(ObservedWorkload Workload, TrafficDirection Direction, ProtocolDescriptor Protocol)
{
    public bool Equals(RollupKey other) =>
        ReferenceEquals(Workload, other.Workload) && Direction == other.Direction && ReferenceEquals(Protocol, other.Protocol);

    public override int GetHashCode() =>
        HashCode.Combine(RuntimeHelpers.GetHashCode(Workload), Direction, RuntimeHelpers.GetHashCode(Protocol));
}
