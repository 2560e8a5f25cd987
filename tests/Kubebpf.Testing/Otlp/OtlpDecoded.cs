using Google.Protobuf.Collections;
using Kubebpf.Testing.Otlp.Proto;

namespace Kubebpf.Testing.Otlp;

/// <summary>One decoded metric data point with its metric, resource and scope: sums and gauges carry <see cref="Value"/>, histograms the rest.</summary>
public sealed record OtlpDataPoint(
    OtlpTransport Transport,
    string Metric,
    string Unit,
    string Kind,
    int Temporality,
    IReadOnlyDictionary<string, object> Attributes,
    IReadOnlyDictionary<string, object> Resource,
    string Scope,
    ulong TimeUnixNano,
    double Value,
    ulong Count,
    IReadOnlyList<ulong> BucketCounts,
    IReadOnlyList<double> Bounds)
{
    /// <summary>An attribute as text, or null when absent.</summary>
    public string? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>The attributes as one sorted text, to tell series apart.</summary>
    public string SeriesKey => string.Join(',', Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}"));
}

/// <summary>One decoded log record with its resource and scope.</summary>
public sealed record OtlpLogRecord(
    OtlpTransport Transport,
    IReadOnlyDictionary<string, object> Attributes,
    IReadOnlyDictionary<string, object> Resource,
    string Scope,
    string Body,
    string EventName,
    int SeverityNumber,
    ulong TimeUnixNano)
{
    /// <summary>An attribute as text, or null when absent.</summary>
    public string? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) : null;
}

/// <summary>Flattens what an <see cref="OtlpReceiver"/> accepted into data points and log records.</summary>
public static class OtlpDecoded
{
    /// <summary>Every data point received, in arrival order.</summary>
    public static IReadOnlyList<OtlpDataPoint> DataPoints(this OtlpReceiver receiver)
    {
        var points = new List<OtlpDataPoint>();
        foreach (var (transport, request) in receiver.MetricRequests)
        {
            foreach (var resourceMetrics in request.ResourceMetrics)
            {
                var resource = Map(resourceMetrics.Resource?.Attributes);
                foreach (var scopeMetrics in resourceMetrics.ScopeMetrics)
                {
                    var scope = scopeMetrics.Scope?.Name ?? "";
                    foreach (var metric in scopeMetrics.Metrics)
                    {
                        points.AddRange(Flatten(transport, metric, resource, scope));
                    }
                }
            }
        }

        return points;
    }

    /// <summary>The last data point of every series (metric and attribute set) per transport: the totals of cumulative metrics.</summary>
    public static IReadOnlyList<OtlpDataPoint> LatestDataPoints(this OtlpReceiver receiver) =>
        [.. receiver.DataPoints().GroupBy(p => (p.Transport, p.Metric, p.SeriesKey)).Select(g => g.MaxBy(p => p.TimeUnixNano)!)];

    /// <summary>Every log record received, in arrival order.</summary>
    public static IReadOnlyList<OtlpLogRecord> LogRecords(this OtlpReceiver receiver)
    {
        var records = new List<OtlpLogRecord>();
        foreach (var (transport, request) in receiver.LogRequests)
        {
            foreach (var resourceLogs in request.ResourceLogs)
            {
                var resource = Map(resourceLogs.Resource?.Attributes);
                foreach (var scopeLogs in resourceLogs.ScopeLogs)
                {
                    records.AddRange(scopeLogs.LogRecords.Select(r => new OtlpLogRecord(
                        transport, Map(r.Attributes), resource, scopeLogs.Scope?.Name ?? "", r.Body is null ? "" : Convert.ToString(Value(r.Body), System.Globalization.CultureInfo.InvariantCulture) ?? "",
                        r.EventName, r.SeverityNumber, r.TimeUnixNano)));
                }
            }
        }

        return records;
    }

    private static IEnumerable<OtlpDataPoint> Flatten(OtlpTransport transport, Metric metric, IReadOnlyDictionary<string, object> resource, string scope)
    {
        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Sum:
                return metric.Sum.DataPoints.Select(p => Number(p, "sum", metric.Sum.AggregationTemporality));
            case Metric.DataOneofCase.Gauge:
                return metric.Gauge.DataPoints.Select(p => Number(p, "gauge", 0));
            case Metric.DataOneofCase.Histogram:
                return metric.Histogram.DataPoints.Select(p => new OtlpDataPoint(
                    transport, metric.Name, metric.Unit, "histogram", metric.Histogram.AggregationTemporality, Map(p.Attributes), resource, scope,
                    p.TimeUnixNano, p.Sum, p.Count, [.. p.BucketCounts], [.. p.ExplicitBounds]));
            default:
                return [];
        }

        OtlpDataPoint Number(NumberDataPoint p, string kind, int temporality) => new(
            transport, metric.Name, metric.Unit, kind, temporality, Map(p.Attributes), resource, scope, p.TimeUnixNano,
            p.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? p.AsInt : p.AsDouble, 0, [], []);
    }

    private static Dictionary<string, object> Map(RepeatedField<KeyValue>? attributes) =>
        attributes?.ToDictionary(a => a.Key, a => Value(a.Value)) ?? [];

    private static object Value(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
        AnyValue.ValueOneofCase.ArrayValue => value.ArrayValue.Values.Select(Value).ToArray(),
        AnyValue.ValueOneofCase.KvlistValue => value.KvlistValue.Values.ToDictionary(a => a.Key, a => Value(a.Value)),
        AnyValue.ValueOneofCase.BytesValue => value.BytesValue.ToByteArray(),
        _ => "",
    };
}
