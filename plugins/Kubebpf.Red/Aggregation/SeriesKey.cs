using System.Runtime.CompilerServices;
using Kubebpf.Sdk.Events;

namespace Kubebpf.Red.Aggregation;

/// <summary>
/// A route-level series. Method and route strings are the shared instances from <see cref="Routing.HttpMethods"/>
/// and the workload's <see cref="Routing.RouteTable"/>, so equality and hashing are by reference: no string is hashed per event.
/// </summary>
internal readonly struct SeriesKey(ObservedWorkload workload, TrafficDirection direction, string method, string route)
    : IEquatable<SeriesKey>
{
    public ObservedWorkload Workload { get; } = workload;

    public TrafficDirection Direction { get; } = direction;

    public string Method { get; } = method;

    public string Route { get; } = route;

    public bool Equals(SeriesKey other) =>
        ReferenceEquals(Workload, other.Workload)
        && Direction == other.Direction
        && ReferenceEquals(Method, other.Method)
        && ReferenceEquals(Route, other.Route);

    public override bool Equals(object? obj) => obj is SeriesKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(
        RuntimeHelpers.GetHashCode(Workload), Direction, RuntimeHelpers.GetHashCode(Method), RuntimeHelpers.GetHashCode(Route));
}
