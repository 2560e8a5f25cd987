namespace Kubebpf.Prometheus.Metrics;

/// <summary>The Prometheus metric types this plugin exposes.</summary>
internal enum MetricKind
{
    /// <summary>Monotonic; exposed as <c>&lt;name&gt;_total</c>.</summary>
    Counter,

    /// <summary>A value that goes up and down, or a total another plugin keeps.</summary>
    Gauge,

    /// <summary>Classic histogram: <c>_bucket{le}</c>, <c>_sum</c>, <c>_count</c>.</summary>
    Histogram,
}

/// <summary>
/// A metric family: its name (without <c>_total</c> for counters, as OpenMetrics names them), help text and type; a
/// histogram's bucket bounds in seconds (+Inf follows), <see cref="LatencyBuckets.UpperBounds"/> unless given.
/// </summary>
internal sealed record MetricFamily(string Name, string Help, MetricKind Kind, double[]? BucketBounds = null)
{
    /// <summary>The histogram's <c>le</c> bounds in seconds, without +Inf.</summary>
    public double[] UpperBounds => BucketBounds ?? LatencyBuckets.UpperBounds;
}

/// <summary>One label set of a family at collection time. Histograms carry cumulative bucket counts (the last is +Inf).</summary>
/// <param name="Labels">Label names and values, without empty values.</param>
/// <param name="Value">The counter or gauge value, or the histogram's count.</param>
/// <param name="CumulativeBuckets">Per <see cref="MetricFamily.UpperBounds"/> plus +Inf, or null for counters and gauges.</param>
/// <param name="Sum">The histogram's sum of observations.</param>
internal readonly record struct SeriesSample(KeyValuePair<string, string>[] Labels, double Value, long[]? CumulativeBuckets = null, double Sum = 0);

/// <summary>A family with its series, copied at collection time: safe to format outside any lock.</summary>
internal sealed record FamilySample(MetricFamily Family, List<SeriesSample> Series);

/// <summary>Something that holds series: hands out a copy of them on each scrape or remote-write send.</summary>
internal interface IMetricSource
{
    /// <summary>Appends a copy of the current families; thread-safe.</summary>
    void Collect(List<FamilySample> into);
}
