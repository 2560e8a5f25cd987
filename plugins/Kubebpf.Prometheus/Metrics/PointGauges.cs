using System.Text;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.Options;

namespace Kubebpf.Prometheus.Metrics;

/// <summary>
/// The sink side: every numeric field of the points other plugins write (the agent's self-metrics
/// <c>kubebpf_agent</c>, the service map, DNS and MySQL extras) becomes the gauge
/// <c>kubebpf_&lt;measurement&gt;_&lt;field&gt;</c>, labelled by the point's tags, holding the last value written. Gauges,
/// because a field may be a total (self-metrics) or a per-window value and a point does not say which; the service map's
/// per-window deltas of calls and connections are the exception, summed into counters by <see cref="ServiceMapCounters"/>.
/// Each protocol's call log (not a metric) and R.E.D. measurement (counted from the exchanges by
/// <see cref="ExchangeMetrics"/>) are left out, as are the profiler's stacks, <see cref="PrometheusOptions.ExcludeMeasurements"/>
/// and string fields. Same series bound and idle expiry as the exchange series.
/// </summary>
internal sealed class PointGauges : IPointSink, IFlushable, IMetricSource
{
    /// <summary>The profiler's stacks: one series per stack, a profile rather than a metric.</summary>
    public static readonly string[] AlwaysExcluded = ["cpu_profile", "cpu_profile_functions"];

    private readonly Lock _gate = new();
    private readonly SeriesBudget _budget;
    private readonly TimeProvider _time;
    private readonly IProtocolCatalog _protocols;
    private readonly HashSet<string> _configuredExclusions;
    private readonly SeriesExpiry _expiry;
    private readonly Counter _ignoredFields;
    private readonly Dictionary<SeriesKey, GaugeSeries> _series = [];
    private readonly ServiceMapCounters _edges;
    private HashSet<string>? _excluded;

    public PointGauges(IOptions<PrometheusOptions> options, SeriesBudget budget, IAgentMetrics metrics, TimeProvider time, IProtocolCatalog protocols, ServiceMapCounters edges)
    {
        _edges = edges;
        _budget = budget;
        _time = time;
        _protocols = protocols;
        _configuredExclusions = new HashSet<string>(options.Value.ExcludeMeasurements.Concat(AlwaysExcluded), StringComparer.Ordinal);
        _ignoredFields = metrics.Counter("string_fields_ignored", "A string field of a point not turned into a gauge (only numbers are).");
        _expiry = new SeriesExpiry(options.Value.SeriesIdleTimeout, time, budget, metrics.Counter("expired_gauges", "A gauge removed after SeriesIdleTimeout without a new value."));
    }

    public ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken)
    {
        var excluded = Excluded();
        var now = _time.GetTimestamp();
        long ignored = 0;
        lock (_gate)
        {
            foreach (var point in batch)
            {
                if (excluded.Contains(point.Measurement))
                {
                    continue;
                }

                var labels = LabelsOf(point);
                var signature = Signature(labels);
                var summed = _edges.Add(point, labels, signature);
                foreach (var field in point.Fields)
                {
                    if (summed && ServiceMapCounters.Takes(point.Measurement, field.Key))
                    {
                        continue;
                    }

                    if (field.Value.Kind == FieldKind.String)
                    {
                        ignored++;
                        continue;
                    }

                    var key = new SeriesKey(point.Measurement, field.Key, signature);
                    if (!_series.TryGetValue(key, out var series))
                    {
                        if (!_budget.TryTake())
                        {
                            continue;
                        }

                        series = new GaugeSeries(MetricNames.OfField(point.Measurement, field.Key), point.Measurement, field.Key, labels);
                        _series.Add(key, series);
                    }

                    series.Value = field.Value.Kind == FieldKind.Boolean ? field.Value.AsLong : field.Value.AsDouble;
                    series.LastSeen = now;
                }
            }
        }

        if (ignored > 0)
        {
            _ignoredFields.Add(ignored);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Removes idle gauges; emits nothing.</summary>
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
            var families = new Dictionary<string, FamilySample>(StringComparer.Ordinal);
            foreach (var series in _series.Values)
            {
                if (!families.TryGetValue(series.Name, out var family))
                {
                    family = new FamilySample(
                        new MetricFamily(series.Name, $"Field {series.Field} of measurement {series.Measurement}: the last value written.", MetricKind.Gauge), []);
                    families.Add(series.Name, family);
                }

                family.Series.Add(new SeriesSample(series.Labels, series.Value));
            }

            into.AddRange(families.Values);
        }
    }

    // Read on the first write: the catalog is complete once probes run, and sinks receive nothing before that.
    private HashSet<string> Excluded()
    {
        if (Volatile.Read(ref _excluded) is { } excluded)
        {
            return excluded;
        }

        excluded = new HashSet<string>(_configuredExclusions, StringComparer.Ordinal);
        var descriptors = _protocols.StreamProtocols.Select(p => p.Protocol.Descriptor)
            .Concat(_protocols.DatagramProtocols.Select(p => p.Protocol.Descriptor));
        foreach (var descriptor in descriptors)
        {
            excluded.Add(descriptor.CallLogMeasurement);
            excluded.Add(descriptor.RedMeasurement);
        }

        Volatile.Write(ref _excluded, excluded);
        return excluded;
    }

    private static KeyValuePair<string, string>[] LabelsOf(MetricPoint point)
    {
        var labels = new List<KeyValuePair<string, string>>(point.Tags.Count);
        foreach (var tag in point.Tags)
        {
            if (!string.IsNullOrEmpty(tag.Value))
            {
                labels.Add(new(MetricNames.OfLabel(tag.Key), tag.Value));
            }
        }

        return [.. labels];
    }

    private static string Signature(KeyValuePair<string, string>[] labels)
    {
        var builder = new StringBuilder();
        foreach (var (name, value) in labels)
        {
            builder.Append(name).Append('\0').Append(value).Append('\0');
        }

        return builder.ToString();
    }

    private readonly record struct SeriesKey(string Measurement, string Field, string Labels);

    private sealed class GaugeSeries(string name, string measurement, string field, KeyValuePair<string, string>[] labels) : IIdleTracked
    {
        public string Name { get; } = name;

        public string Measurement { get; } = measurement;

        public string Field { get; } = field;

        public KeyValuePair<string, string>[] Labels { get; } = labels;

        public double Value { get; set; }

        public long LastSeen { get; set; }
    }
}
