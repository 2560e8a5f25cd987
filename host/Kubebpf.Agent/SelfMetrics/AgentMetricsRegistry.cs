using System.Collections.Concurrent;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Agent.SelfMetrics;

/// <summary>
/// Holds the counters and gauges of every component and writes them as <c>kubebpf_agent</c> points
/// (tags node, component; one field per counter) at each flush.
/// </summary>
internal sealed class AgentMetricsRegistry
{
    public const string Measurement = "kubebpf_agent";

    private readonly ConcurrentDictionary<string, ComponentMetrics> _components = new(StringComparer.Ordinal);

    public ComponentMetrics For(string component) => _components.GetOrAdd(component, c => new ComponentMetrics(c));

    public IReadOnlyCollection<ComponentMetrics> Components => [.. _components.Values.OrderBy(c => c.Component, StringComparer.Ordinal)];

    public IReadOnlyList<MetricPoint> Snapshot(string node, long timestampUnixNs)
    {
        var points = new List<MetricPoint>();
        foreach (var component in Components)
        {
            var fields = component.ReadFields();
            if (fields.Length > 0)
            {
                points.Add(new MetricPoint(Measurement, [new Tag("node", node), new Tag("component", component.Component)], fields, timestampUnixNs));
            }
        }

        return points;
    }
}

/// <summary>The <see cref="IAgentMetrics"/> of one component (a plugin instance, or the host itself).</summary>
internal sealed class ComponentMetrics(string component) : IAgentMetrics
{
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Description, Func<long> Read)> _gauges = new(StringComparer.Ordinal);

    public string Component { get; } = component;

    public Counter Counter(string name, string description)
    {
        ValidateName(name);
        return _counters.GetOrAdd(name, n => new Counter(n, description));
    }

    public void Gauge(string name, string description, Func<long> read)
    {
        ValidateName(name);
        ArgumentNullException.ThrowIfNull(read);
        _gauges[name] = (description, read);
    }

    /// <summary>Name, description and current value of every counter and gauge, sorted by name.</summary>
    public IEnumerable<(string Name, string Description, long Value)> Read() =>
        _counters.Values.Select(c => (c.Name, c.Description, c.Value))
            .Concat(_gauges.Select(g => (g.Key, g.Value.Description, SafeRead(g.Value.Read))))
            .OrderBy(m => m.Item1, StringComparer.Ordinal);

    internal Field[] ReadFields() => [.. Read().Select(m => new Field(m.Name, FieldValue.Integer(m.Value)))];

    // A gauge reads plugin state; a broken one must not stop the others from being written.
    private static long SafeRead(Func<long> read)
    {
        try
        {
            return read();
        }
        catch (Exception)
        {
            return -1;
        }
    }

    private static void ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')))
        {
            throw new ArgumentException($"Self-metric name '{name}' must be snake_case (a-z, 0-9, _).", nameof(name));
        }
    }
}
