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

/// <summary>
/// When a counter or histogram series was created: a <see cref="TimeProvider"/> timestamp, to tell whether it appeared
/// after a scrape or send (then that reader has not seen it yet), and the wall-clock time in Unix milliseconds, the
/// time of the zero sample remote write sends before its first value.
/// </summary>
internal readonly record struct SeriesOrigin(long Timestamp, long UnixMs)
{
    /// <summary>Now, by <paramref name="time"/>.</summary>
    public static SeriesOrigin Now(TimeProvider time) => new(time.GetTimestamp(), time.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>Whether the series appeared after a reader's previous collection, taken at <paramref name="previousCollection"/>.</summary>
    public bool IsAfter(long previousCollection) => Timestamp > previousCollection;
}

/// <summary>One label set of a family at collection time. Histograms carry cumulative bucket counts (the last is +Inf).</summary>
/// <param name="Labels">Label names and values, without empty values.</param>
/// <param name="Value">The counter or gauge value, or the histogram's count.</param>
/// <param name="CumulativeBuckets">Per <see cref="MetricFamily.UpperBounds"/> plus +Inf, or null for counters and gauges.</param>
/// <param name="Sum">The histogram's sum of observations.</param>
/// <param name="Native">The native histogram of the same observations, or null for counters, gauges and classic-only histograms.</param>
/// <param name="Origin">When a counter or histogram series appeared; default for gauges (never shown as new).</param>
internal readonly record struct SeriesSample(
    KeyValuePair<string, string>[] Labels, double Value, long[]? CumulativeBuckets = null, double Sum = 0, NativeSnapshot? Native = null, SeriesOrigin Origin = default)
{
    /// <summary>The same series with nothing counted yet: what a reader that has not seen it gets first.</summary>
    public SeriesSample AsZero() => this with
    {
        Value = 0,
        CumulativeBuckets = CumulativeBuckets is null ? null : new long[CumulativeBuckets.Length],
        Sum = 0,
        Native = Native is null ? null : NativeSnapshot.Empty,
    };
}

/// <summary>A family with its series, copied at collection time: safe to format outside any lock.</summary>
internal sealed record FamilySample(MetricFamily Family, List<SeriesSample> Series);

/// <summary>Something that holds series: hands out a copy of them on each scrape or remote-write send.</summary>
internal interface IMetricSource
{
    /// <summary>Appends a copy of the current families; thread-safe.</summary>
    void Collect(List<FamilySample> into);
}
