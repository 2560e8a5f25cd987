namespace Kubebpf.Http.Tracking;

/// <summary>Bounds and privacy settings of <see cref="HttpConnectionTracker"/>.</summary>
public sealed class HttpTrackerOptions
{
    /// <summary>Connections tracked at once; the least recently active one is evicted beyond this.</summary>
    public int MaxConnections { get; set; } = 65536;

    /// <summary>A connection without segments for this long is evicted by <c>EvictIdle</c>.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Largest request or response head buffered across segments; longer heads are counted as oversized.</summary>
    public int MaxHeadBytes { get; set; } = 16 * 1024;

    /// <summary>Requests waiting for their responses on one connection (HTTP pipelining).</summary>
    public int MaxPipelinedRequests { get; set; } = 64;

    /// <summary>Record query strings (they may hold secrets); off by default.</summary>
    public bool RecordQueryStrings { get; set; }

    /// <summary>Distinct Host values and non-standard methods kept as shared strings.</summary>
    public int MaxInternedStrings { get; set; } = 4096;
}
