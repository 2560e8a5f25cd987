namespace Kubebpf.Red.Routing;

/// <summary>
/// The distinct routes of one workload, capped: each route string is allocated once, when first seen, and every
/// later exchange on it gets the same instance. Beyond the cap new routes collapse into <see cref="OtherRoute"/>.
/// Not thread-safe: the aggregator synchronises.
/// </summary>
internal sealed class RouteTable
{
    /// <summary>The route of every exchange whose own route did not fit under the cap.</summary>
    public const string OtherRoute = "{other}";

    private readonly HashSet<string> _routes = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int _capacity;

    public RouteTable(int capacity)
    {
        _capacity = capacity;
        _lookup = _routes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>How many distinct routes the table holds (never more than the cap).</summary>
    public int Count => _routes.Count;

    /// <summary>The flush window in which the table was last used; idle tables are dropped at flush.</summary>
    public long LastUsedWindow { get; set; }

    /// <summary>The shared route string for <paramref name="path"/>; <paramref name="collapsed"/> tells when the cap replaced it.</summary>
    public string Resolve(ReadOnlySpan<char> path, out bool collapsed)
    {
        Span<char> buffer = stackalloc char[RouteNormalizer.MaxRouteLength];
        var route = buffer[..RouteNormalizer.Normalize(path, buffer)];
        collapsed = false;
        if (_lookup.TryGetValue(route, out var known))
        {
            return known;
        }

        if (_routes.Count >= _capacity)
        {
            collapsed = true;
            return OtherRoute;
        }

        var text = route.ToString();
        _routes.Add(text);
        return text;
    }
}
