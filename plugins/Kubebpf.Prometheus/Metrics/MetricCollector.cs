namespace Kubebpf.Prometheus.Metrics;

/// <summary>Every family of every source of this plugin instance, as one copy.</summary>
internal sealed class MetricCollector(IEnumerable<IMetricSource> sources)
{
    private readonly IMetricSource[] _sources = [.. sources];

    /// <summary>A copy of all families; thread-safe.</summary>
    public List<FamilySample> Collect()
    {
        var families = new List<FamilySample>();
        foreach (var source in _sources)
        {
            source.Collect(families);
        }

        return families;
    }
}
