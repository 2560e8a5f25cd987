using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Otlp.Metrics;

/// <summary>
/// Caps the distinct normalised resources (HTTP routes, DNS names, fingerprints) per workload (namespace, kind, name)
/// and protocol, so that one noisy workload cannot fill a metric's cardinality limit: each resource string is allocated
/// once and shared; beyond the cap resources become <see cref="Other"/>. The number of workloads held is bounded too
/// (cleared when full: they refill from live traffic). Not thread-safe: the caller synchronises.
/// </summary>
internal sealed class RouteLimiter(int maxRoutesPerWorkload)
{
    /// <summary>The resource of every exchange whose own resource did not fit under the cap.</summary>
    public const string Other = "{other}";

    /// <summary>The longest resource kept, whatever a descriptor asks: the normaliser writes into a stack buffer.</summary>
    public const int LongestResource = 4096;

    private const int MaxWorkloads = 10_000;

    private readonly Dictionary<TableKey, HashSet<string>> _tables = [];

    /// <summary>
    /// The shared string of <paramref name="resource"/> normalised by <paramref name="protocol"/> (or cut to its
    /// <see cref="ProtocolDescriptor.MaxResourceLength"/>); <paramref name="collapsed"/> tells when the cap replaced it.
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

            table = new HashSet<string>(StringComparer.Ordinal);
            _tables.Add(key, table);
        }

        Span<char> destination = stackalloc char[Math.Clamp(protocol.MaxResourceLength, 0, LongestResource)];
        var normalised = protocol.NormalizeResource is { } normalize
            ? destination[..Math.Clamp(normalize(resource, destination), 0, destination.Length)]
            : resource[..Math.Min(resource.Length, destination.Length)];
        collapsed = false;
        if (table.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(normalised, out var known))
        {
            return known;
        }

        if (table.Count >= maxRoutesPerWorkload)
        {
            collapsed = true;
            return Other;
        }

        var text = normalised.ToString();
        table.Add(text);
        return text;
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
