namespace Kubebpf.Prometheus.Metrics;

/// <summary>
/// The normalised resources one workload used in one protocol, at most <c>MaxRoutesPerWorkload</c>; later ones resolve to
/// <see cref="Other"/>. Looked up by span, so a known resource costs no allocation. Not thread-safe (the caller locks).
/// </summary>
internal sealed class RouteTable(int capacity)
{
    /// <summary>The resource label of what did not fit.</summary>
    public const string Other = "{other}";

    /// <summary>Resources as sent, remembered with what they resolved to; cleared when full (a cache, not a bound).</summary>
    private const int MaxRemembered = 1024;

    private readonly Dictionary<string, string> _resources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _resolvedBySent = new(StringComparer.Ordinal);

    /// <summary>When the table was last used (a <see cref="TimeProvider"/> timestamp).</summary>
    public long LastSeen { get; set; }

    /// <summary>What <paramref name="sent"/> resolved to before, so that it need not be normalised again.</summary>
    public bool TryRecall(string sent, out string resolved) => _resolvedBySent.TryGetValue(sent, out resolved!);

    /// <summary>Remembers what <paramref name="sent"/> resolved to (the sent string is the parser's own, kept as is).</summary>
    public void Remember(string sent, string resolved)
    {
        if (_resolvedBySent.Count >= MaxRemembered)
        {
            _resolvedBySent.Clear();
        }

        _resolvedBySent[sent] = resolved;
    }

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
