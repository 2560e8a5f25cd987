using System.Globalization;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Options;

namespace Kubebpf.Prometheus.Metrics;

/// <summary>
/// Running totals of the service map's edges. The service map writes the calls and connections of each flush window as
/// deltas (so that a sum over a time range is that range's total); summed here per label set (node, edge, source,
/// target, port, service, protocol), they become counters (<c>kubebpf_service_map_calls_requests_total</c>, ...) and a
/// duration histogram (<c>kubebpf_service_map_calls_duration_seconds</c>, the map's own buckets) that <c>rate()</c> and
/// <c>increase()</c> read (a new edge reaches each reader at zero first, like the exchange counters, so that
/// <c>increase()</c> sees its first window). The per-window values that do not add up (maxima, percentiles, connections open) stay gauges
/// of <see cref="PointGauges"/>, as do the Node Graph frames. Same series bound and idle expiry as the other sources.
/// </summary>
internal sealed class ServiceMapCounters : IFlushable, IMetricSource
{
    public const string Calls = "service_map_calls";
    public const string Connections = "service_map_connections";

    // The calls' buckets: le_<bound>ms in ascending order, then le_inf; their sum is duration_sum_ms.
    private const string BucketPrefix = "le_";
    private const string InfiniteBucket = "le_inf";
    private const string DurationSum = "duration_sum_ms";
    private const int MaxBuckets = 64;

    private static readonly Measurement[] Measurements =
    [
        new(Calls, [new("requests", "Calls"), new("errors", "Calls that failed on the server's side"), new("client_errors", "Calls refused as the client's fault"),
            new("timeouts", "Calls without an answer in time")]),
        new(Connections, [new("connects", "TCP connects"), new("refused", "TCP connects refused"), new("timeouts", "TCP connects unanswered"),
            new("bytes_sent", "TCP payload bytes from source to target"), new("bytes_received", "TCP payload bytes from target to source"),
            new("retransmits", "TCP segments sent again"), new("connect_time_count", "TCP connects whose connect time is in connect_time_seconds"),
            new("connect_time_sum_ms", "Sum of TCP connect times, in seconds", "connect_time_seconds", 1e-3)]),
    ];

    private readonly Lock _gate = new();
    private readonly SeriesBudget _budget;
    private readonly TimeProvider _time;
    private readonly SeriesExpiry _expiry;
    private readonly Counter _unreadable;
    private readonly Dictionary<(Measurement Measurement, string Labels), EdgeSeries> _series = [];
    private MetricFamily? _duration;

    public ServiceMapCounters(IOptions<PrometheusOptions> options, SeriesBudget budget, IAgentMetrics metrics, TimeProvider time)
    {
        _budget = budget;
        _time = time;
        _expiry = new SeriesExpiry(options.Value.SeriesIdleTimeout, time, budget, metrics.Counter("expired_edge_series", "A service-map edge's counters removed after SeriesIdleTimeout without a new point."));
        _unreadable = metrics.Counter("edge_histograms_skipped", "A service-map calls point whose buckets did not match the first one's, left out of the duration histogram.");
    }

    /// <summary>Whether <paramref name="field"/> of <paramref name="measurement"/> is summed here (and so is no gauge).</summary>
    public static bool Takes(string measurement, string field) =>
        Find(measurement) is { } known &&
        (known.IndexOf(field) >= 0 || (measurement == Calls && (field == DurationSum || field.StartsWith(BucketPrefix, StringComparison.Ordinal))));

    /// <summary>Adds a point's deltas to its edge's totals; false when the point is not one of the map's edges. Thread-safe.</summary>
    public bool Add(MetricPoint point, KeyValuePair<string, string>[] labels, string signature)
    {
        if (Find(point.Measurement) is not { } measurement)
        {
            return false;
        }

        var now = _time.GetTimestamp();
        Span<long> pending = stackalloc long[MaxBuckets];
        var pendingSum = 0.0;
        lock (_gate)
        {
            if (!_series.TryGetValue((measurement, signature), out var series))
            {
                if (!_budget.TryTake())
                {
                    return true;
                }

                series = new EdgeSeries(labels, measurement.Counters.Length, SeriesOrigin.Now(_time));
                _series.Add((measurement, signature), series);
            }

            series.LastSeen = now;
            var buckets = 0;
            foreach (var field in point.Fields)
            {
                if (field.Value.Kind is FieldKind.String or FieldKind.Boolean)
                {
                    continue;
                }

                var index = measurement.IndexOf(field.Key);
                if (index >= 0)
                {
                    series.Totals[index] += field.Value.AsDouble * measurement.Counters[index].Scale;
                }
                else if (measurement.Name == Calls && field.Key == DurationSum)
                {
                    pendingSum = field.Value.AsDouble / 1000;
                }
                else if (measurement.Name == Calls && field.Key.StartsWith(BucketPrefix, StringComparison.Ordinal))
                {
                    if (buckets == MaxBuckets)
                    {
                        buckets++; // more than any histogram here: counted as unreadable
                        break;
                    }

                    pending[buckets++] = field.Value.AsLong;
                }
            }

            if (measurement.Name == Calls)
            {
                AddHistogram(point, series, pending[..Math.Min(buckets, MaxBuckets)], buckets, pendingSum);
            }
        }

        return true;
    }

    public void Flush(long windowEndUnixNs, IPointWriter output)
    {
        int removed;
        lock (_gate)
        {
            removed = _expiry.RemoveIdle(_series);
        }

        _expiry.Release(removed);
    }

    public void Collect(List<FamilySample> into)
    {
        lock (_gate)
        {
            foreach (var measurement in Measurements)
            {
                var families = measurement.Counters.Select(c => new FamilySample(c.Family(measurement.Name), [])).ToArray();
                var histogram = measurement.Name == Calls && _duration is not null ? new FamilySample(_duration, []) : null;
                foreach (var ((owner, _), series) in _series)
                {
                    if (owner != measurement)
                    {
                        continue;
                    }

                    for (var i = 0; i < families.Length; i++)
                    {
                        families[i].Series.Add(new SeriesSample(series.Labels, series.Totals[i], Origin: series.Origin));
                    }

                    if (histogram is not null && series.Buckets is { } buckets)
                    {
                        var cumulative = new long[buckets.Length];
                        long running = 0;
                        for (var i = 0; i < buckets.Length; i++)
                        {
                            cumulative[i] = running += buckets[i];
                        }

                        histogram.Series.Add(new SeriesSample(series.Labels, running, cumulative, series.Sum, Origin: series.Origin));
                    }
                }

                into.AddRange(families.Where(f => f.Series.Count > 0));
                if (histogram is { Series.Count: > 0 })
                {
                    into.Add(histogram);
                }
            }
        }
    }

    // The first calls point with buckets fixes them; a point that brings other buckets is left out of the histogram, counted.
    private void AddHistogram(MetricPoint point, EdgeSeries series, ReadOnlySpan<long> pending, int buckets, double sum)
    {
        if (buckets == 0)
        {
            return;
        }

        _duration ??= DurationFamily(point);
        var bounds = _duration.UpperBounds.Length + 1;
        if (buckets != bounds)
        {
            _unreadable.Increment();
            return;
        }

        series.Buckets ??= new long[bounds];
        for (var i = 0; i < bounds; i++)
        {
            series.Buckets[i] += pending[i];
        }

        series.Sum += sum;
    }

    private static MetricFamily DurationFamily(MetricPoint point)
    {
        var bounds = new List<double>();
        foreach (var field in point.Fields)
        {
            if (field.Key.StartsWith(BucketPrefix, StringComparison.Ordinal) && field.Key != InfiniteBucket &&
                field.Key.EndsWith("ms", StringComparison.Ordinal) &&
                double.TryParse(field.Key.AsSpan(BucketPrefix.Length, field.Key.Length - BucketPrefix.Length - 2), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
            {
                bounds.Add(ms / 1000);
            }
        }

        return new MetricFamily(
            MetricNames.OfField(Calls, "duration_seconds"), "Duration of the calls of a service-map edge, first request byte to first answer byte.", MetricKind.Histogram, [.. bounds]);
    }

    private static Measurement? Find(string name)
    {
        foreach (var measurement in Measurements)
        {
            if (measurement.Name == name)
            {
                return measurement;
            }
        }

        return null;
    }

    /// <summary>A summed field: its point field, its help, the metric's field name and the factor to base units.</summary>
    private sealed class CounterField(string field, string help, string? metricField = null, double scale = 1)
    {
        private MetricFamily? _family;

        public string Field { get; } = field;

        public double Scale { get; } = scale;

        public MetricFamily Family(string measurement) =>
            _family ??= new MetricFamily(MetricNames.OfField(measurement, metricField ?? Field), help + " of a service-map edge.", MetricKind.Counter);
    }

    private sealed class Measurement(string name, CounterField[] counters)
    {
        public string Name { get; } = name;

        public CounterField[] Counters { get; } = counters;

        public int IndexOf(string field) => Array.FindIndex(Counters, c => c.Field == field);
    }

    private sealed class EdgeSeries(KeyValuePair<string, string>[] labels, int counters, SeriesOrigin origin) : IIdleTracked
    {
        public KeyValuePair<string, string>[] Labels { get; } = labels;

        public SeriesOrigin Origin { get; } = origin;

        public double[] Totals { get; } = new double[counters];

        /// <summary>The calls' non-cumulative buckets since the series began; null for connections.</summary>
        public long[]? Buckets { get; set; }

        public double Sum { get; set; }

        public long LastSeen { get; set; }
    }
}
