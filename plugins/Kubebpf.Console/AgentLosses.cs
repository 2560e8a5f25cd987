using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Console;

/// <summary>
/// The latest value of every agent counter that counts lost or rejected data (by name), per component.
/// Counters are running totals, so the newest point of a component replaces the previous one.
/// </summary>
internal sealed class AgentLosses(IReadOnlyList<string> keywords)
{
    private readonly SortedDictionary<string, long> _values = new(StringComparer.Ordinal);

    public bool Seen { get; private set; }

    /// <summary><c>component.field=value</c> for each loss counter above zero, sorted by name.</summary>
    public IEnumerable<string> NonZero => _values.Where(v => v.Value > 0).Select(v => $"{v.Key}={v.Value}");

    public void Add(MetricPoint point)
    {
        Seen = true;
        var component = point.Tag("component") ?? "agent";
        foreach (var field in point.Fields)
        {
            if (field.Value.Kind is FieldKind.Integer or FieldKind.UInteger or FieldKind.Float && IsLossCounter(field.Key))
            {
                _values[$"{component}.{field.Key}"] = field.Value.AsLong;
            }
        }
    }

    private bool IsLossCounter(string name)
    {
        foreach (var keyword in keywords)
        {
            if (name.Contains(keyword, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
