namespace Kubebpf.Prometheus.Metrics;

/// <summary>
/// The normalised resources one workload used in one protocol, at most <c>MaxRoutesPerWorkload</c>; later ones resolve to
/// <see cref="Other"/>. Looked up by span, so a known resource costs no allocation. Not thread-safe (the caller locks).
/// </summary>
internal sealed class RouteTable(int capacity)
{
    /// <summary>The resource label of what did not fit.</summary>
    public const string Other = "{other}";

    private readonly Dictionary<string, string> _resources = new(StringComparer.Ordinal);

    /// <summary>When the table was last used (a <see cref="TimeProvider"/> timestamp).</summary>
    public long LastSeen { get; set; }

    /// <summary>The shared string of <paramref name="resource"/>, or <see cref="Other"/> (<paramref name="collapsed"/>) when the table is full.</summary>
    public string Resolve(ReadOnlySpan<char> resource, out bool collapsed)
    {
        collapsed = false;
        if (_resources.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(resource, out var known))
        {
            return known;
        }

        if (_resources.Count >= capacity)
        {
            collapsed = true;
            return Other;
        }

        var added = resource.ToString();
        _resources.Add(added, added);
        return added;
    }
}
