namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// Self-metrics: every place data can be lost registers a counter here. The host writes all counters of a plugin
/// instance as one <c>kubebpf_agent</c> point per flush (tag <c>component</c>, one field per counter).
/// </summary>
public interface IAgentMetrics
{
    /// <summary>
    /// Returns the counter <paramref name="name"/> of this plugin instance, creating it at zero on first use.
    /// Thread-safe; call at construction time and keep the counter.
    /// </summary>
    /// <param name="name">Field name in snake_case, e.g. <c>ringbuf_drops</c>.</param>
    /// <param name="description">What one count means, shown by <c>kubebpf plugins</c>.</param>
    Counter Counter(string name, string description);

    /// <summary>Registers a value read at each flush (buffer fill, cache size). <paramref name="read"/> must be thread-safe and cheap.</summary>
    void Gauge(string name, string description, Func<long> read);
}

/// <summary>A monotonically increasing count; increments are lock-free and allocation-free.</summary>
public sealed class Counter
{
    private long _value;

    /// <summary>Creates a counter at zero.</summary>
    public Counter(string name, string description)
    {
        Name = name;
        Description = description;
    }

    /// <summary>The field name.</summary>
    public string Name { get; }

    /// <summary>What one count means.</summary>
    public string Description { get; }

    /// <summary>The current total.</summary>
    public long Value => Interlocked.Read(ref _value);

    /// <summary>Adds one.</summary>
    public void Increment() => Interlocked.Increment(ref _value);

    /// <summary>Adds <paramref name="amount"/>.</summary>
    public void Add(long amount) => Interlocked.Add(ref _value, amount);
}
