using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Otlp.Metrics;

/// <summary>
/// Caps the distinct normalised resources (HTTP routes, DNS names, fingerprints) per workload (namespace, kind, name)
/// and protocol, so that one noisy workload cannot fill a metric's cardinality limit: one SDK <see cref="ResourceTable"/>
/// per workload and protocol. The number of workloads held is bounded too (cleared when full: they refill from live
/// traffic). Not thread-safe: the caller synchronises.
/// </summary>
internal sealed class RouteLimiter(int maxRoutesPerWorkload)
{
    /// <summary>The resource of every exchange whose own resource did not fit under the cap.</summary>
    public const string Other = ResourceTable.Other;

    private const int MaxWorkloads = 10_000;

    private readonly Dictionary<TableKey, ResourceTable> _tables = [];

    /// <summary>
    /// The shared string of <paramref name="resource"/> normalised by <paramref name="protocol"/> (see
    /// <see cref="ResourceTable.Resolve"/>); <paramref name="collapsed"/> tells when the cap replaced it.
    /// </summary>
    public string Resolve(WorkloadIdentity? workload, ProtocolDescriptor protocol, ReadOnlySpan<char> resource, out bool collapsed)
    {
        var key = new TableKey(workload?.Namespace, workload?.WorkloadKind, workload?.WorkloadName, protocol);
        if (!_tables.TryGetValue(key, out var table))
        {
            if (_tables.Count >= MaxWorkloads)
            {
                _tables.Clear();
            }

            table = new ResourceTable(protocol, maxRoutesPerWorkload);
            _tables.Add(key, table);
        }

        return table.Resolve(resource, out collapsed);
    }
    /// <summary>Protocols compare by reference (one descriptor per protocol); names by value.</summary>
    private readonly record struct TableKey(string? Namespace, string? Kind, string? Workload, ProtocolDescriptor Protocol)
    {
        public bool Equals(TableKey other) =>
            string.Equals(Namespace, other.Namespace, StringComparison.Ordinal) && string.Equals(Kind, other.Kind, StringComparison.Ordinal)
            && string.Equals(Workload, other.Workload, StringComparison.Ordinal) && ReferenceEquals(Protocol, other.Protocol);

        public override int GetHashCode() => HashCode.Combine(Namespace, Kind, Workload, System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Protocol));
    }
}
