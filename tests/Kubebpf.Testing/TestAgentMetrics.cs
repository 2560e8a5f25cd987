using System.Collections.Concurrent;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Testing;

/// <summary>An <see cref="IAgentMetrics"/> whose counters tests can read by name.</summary>
public sealed class TestAgentMetrics : IAgentMetrics
{
    private readonly ConcurrentDictionary<string, Counter> _counters = new();
    private readonly ConcurrentDictionary<string, Func<long>> _gauges = new();

    public Counter Counter(string name, string description) => _counters.GetOrAdd(name, n => new Counter(n, description));

    public void Gauge(string name, string description, Func<long> read) => _gauges[name] = read;

    /// <summary>The counter's value, or the gauge's current reading; 0 for an unknown name.</summary>
    public long Value(string name) =>
        _counters.TryGetValue(name, out var counter) ? counter.Value
        : _gauges.TryGetValue(name, out var gauge) ? gauge() : 0;
}
