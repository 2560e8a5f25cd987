using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Prometheus.Metrics;

/// <summary>
/// The normalised resources one workload used in one protocol: the SDK's <see cref="ResourceTable"/> (at most
/// <c>MaxRoutesPerWorkload</c>, later ones resolve to <see cref="Other"/>), with the resources as sent remembered with
/// what they resolved to, so that a known one is not normalised again. Not thread-safe (the caller locks).
/// </summary>
internal sealed class RouteTable(ProtocolDescriptor protocol, int capacity) : IIdleTracked
{
    /// <summary>The resource label of what did not fit.</summary>
    public const string Other = ResourceTable.Other;

    /// <summary>Resources as sent, remembered with what they resolved to; cleared when full (a cache, not a bound).</summary>
    private const int MaxRemembered = 1024;

    private readonly ResourceTable _resources = new(protocol, capacity);
    private readonly Dictionary<string, string> _resolvedBySent = new(StringComparer.Ordinal);

    /// <summary>When the table was last used (a <see cref="TimeProvider"/> timestamp).</summary>
    public long LastSeen { get; set; }

    /// <summary>The shared string of <paramref name="sent"/> normalised, or <see cref="Other"/> (<paramref name="collapsed"/>) when the table is full.</summary>
    public string Resolve(string sent, out bool collapsed)
    {
        // Normalisers are pure (the SDK's contract), so a resource seen before resolves without running it again.
        if (_resolvedBySent.TryGetValue(sent, out var recalled))
        {
            collapsed = ReferenceEquals(recalled, Other);
            return recalled;
        }

        var resolved = _resources.Resolve(sent, out collapsed);
        if (_resolvedBySent.Count >= MaxRemembered)
        {
            _resolvedBySent.Clear();
        }

        _resolvedBySent[sent] = resolved; // the sent string is the parser's own, kept as is
        return resolved;
    }
}
