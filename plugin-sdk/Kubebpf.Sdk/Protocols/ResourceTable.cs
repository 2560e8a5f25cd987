namespace Kubebpf.Sdk.Protocols;

/// <summary>
/// The distinct normalised resources (HTTP routes, DNS names, statement fingerprints) of one workload in one protocol,
/// capped, for anything that keys series by resource: each resource string is allocated once, when first seen, and
/// every later exchange on it gets the same instance; beyond the cap new resources collapse into <see cref="Other"/>,
/// so one workload with unbounded paths cannot fill a metric store. The caller keeps one table per workload and
/// protocol, decides how long it lives, and counts the collapses. Not thread-safe: the caller synchronises.
/// </summary>
public sealed class ResourceTable
{
    /// <summary>The resource of every exchange whose own resource did not fit under the cap.</summary>
    public const string Other = "{other}";

    /// <summary>
    /// The longest resource kept: a hard bound on <see cref="ProtocolDescriptor.MaxResourceLength"/>, since the
    /// normaliser writes into a stack buffer of that size (and longer labels serve no query).
    /// </summary>
    public const int LongestResource = 4096;

    private readonly HashSet<string> _resources = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int _capacity;

    /// <summary>Creates an empty table.</summary>
    /// <param name="protocol">The protocol whose normaliser and length bound apply.</param>
    /// <param name="capacity">The most distinct resources held (a plugin's <c>MaxRoutesPerWorkload</c>).</param>
    public ResourceTable(ProtocolDescriptor protocol, int capacity)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        Protocol = protocol;
        _capacity = capacity;
        _lookup = _resources.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The protocol whose resources the table holds (and whose normaliser it applies).</summary>
    public ProtocolDescriptor Protocol { get; }

    /// <summary>How many distinct resources the table holds (never more than the cap).</summary>
    public int Count => _resources.Count;

    /// <summary>
    /// The shared string of <paramref name="resource"/> normalised by the protocol (or cut to its
    /// <see cref="ProtocolDescriptor.MaxResourceLength"/> when it has no normaliser), or <see cref="Other"/>, which
    /// <paramref name="collapsed"/> tells, when the table is full and the resource new. A normaliser that reports more
    /// characters than the buffer holds is cut to the buffer.
    /// </summary>
    public string Resolve(ReadOnlySpan<char> resource, out bool collapsed)
    {
        Span<char> destination = stackalloc char[Math.Clamp(Protocol.MaxResourceLength, 0, LongestResource)];
        var normalised = Protocol.NormalizeResource is { } normalize
            ? destination[..Math.Clamp(normalize(resource, destination), 0, destination.Length)]
            : resource[..Math.Min(resource.Length, destination.Length)];
        collapsed = false;
        if (_lookup.TryGetValue(normalised, out var known))
        {
            return known;
        }

        if (_resources.Count >= _capacity)
        {
            collapsed = true;
            return Other;
        }

        var text = normalised.ToString();
        _resources.Add(text);
        return text;
    }
}
