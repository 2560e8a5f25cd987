using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Red.Resources;

/// <summary>
/// The distinct normalised resources (HTTP routes, say) of one workload in one protocol, capped: each resource string
/// is allocated once, when first seen, and every later exchange on it gets the same instance, so series keys compare
/// it by reference. Beyond the cap new resources collapse into <see cref="Other"/>. Not thread-safe: the aggregator
/// synchronises.
/// </summary>
internal sealed class ResourceTable
{
    /// <summary>The resource of every exchange whose own resource did not fit under the cap.</summary>
    public const string Other = "{other}";

    private readonly HashSet<string> _resources = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int _capacity;

    public ResourceTable(ProtocolDescriptor protocol, int capacity)
    {
        Protocol = protocol;
        _capacity = capacity;
        _lookup = _resources.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The protocol whose resources the table holds (and whose normaliser it applies).</summary>
    public ProtocolDescriptor Protocol { get; }

    /// <summary>
    /// The longest resource kept: a hard bound on <see cref="ProtocolDescriptor.MaxResourceLength"/>, since the
    /// normaliser writes into a stack buffer of that size (and longer tags serve no query).
    /// </summary>
    public const int LongestResource = 4096;

    /// <summary>How many distinct resources the table holds (never more than the cap).</summary>
    public int Count => _resources.Count;

    /// <summary>The flush window in which the table was last used; idle tables are dropped at flush.</summary>
    public long LastUsedWindow { get; set; }

    /// <summary>
    /// The shared string of <paramref name="resource"/> normalised by the protocol (or cut to its
    /// <see cref="ProtocolDescriptor.MaxResourceLength"/> when it has no normaliser); <paramref name="collapsed"/>
    /// tells when the cap replaced it.
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
