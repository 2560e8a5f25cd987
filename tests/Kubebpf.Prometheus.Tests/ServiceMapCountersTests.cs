using System.Text;
using Kubebpf.Prometheus.Exposition;
using Kubebpf.Prometheus.Metrics;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Testing;

namespace Kubebpf.Prometheus.Tests;

/// <summary>The service map's per-window deltas summed into per-edge counters and a duration histogram.</summary>
public sealed class ServiceMapCountersTests
{
    private const long Now = 1_700_000_000_000_000_000;
    private static readonly Tag[] Edge = [new("node", "n1"), new("edge", "shop/cart->shop/db"), new("source", "shop/cart"), new("target", "shop/db"), new("port", "80"), new("protocol", "http")];

    [Fact]
    public async Task Windows_of_an_edge_add_up_to_counters_and_a_histogram_and_per_window_values_stay_gauges()
    {
        var (gauges, edges, metrics, _) = PointGaugesTests.CreateWithEdges();

        // Two windows: 3 calls (1 error) of 0.5, 3 and 30 ms, then 4 calls (1 timeout) of 0.8, 0.9, 7 and 6000 ms.
        await gauges.WriteAsync([Calls(requests: 3, errors: 1, timeouts: 0, sumMs: 33.5, p99: 30, buckets: [1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])], CancellationToken.None);
        await gauges.WriteAsync([Calls(requests: 4, errors: 0, timeouts: 1, sumMs: 6008.7, p99: 6000, buckets: [2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1])], CancellationToken.None);
        await gauges.WriteAsync([Connections(connects: 2, sumMs: 0.3, count: 2, active: 1), Connections(connects: 1, sumMs: 0.2, count: 1, active: 0)], CancellationToken.None);

        Assert.Equal(7, Single(edges, "kubebpf_service_map_calls_requests", MetricKind.Counter).Value);
        Assert.Equal(1, Single(edges, "kubebpf_service_map_calls_errors", MetricKind.Counter).Value);
        Assert.Equal(1, Single(edges, "kubebpf_service_map_calls_timeouts", MetricKind.Counter).Value);
        var duration = Single(edges, "kubebpf_service_map_calls_duration_seconds", MetricKind.Histogram);
        Assert.Equal([3, 3, 4, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7], duration.CumulativeBuckets!);
        Assert.Equal(7, duration.Value);
        Assert.Equal(6.0422, duration.Sum, 9);
        Assert.Equal(Edge.Select(t => new KeyValuePair<string, string>(t.Key, t.Value)), duration.Labels);
        Assert.Equal(3, Single(edges, "kubebpf_service_map_connections_connects", MetricKind.Counter).Value);
        Assert.Equal(0.0005, Single(edges, "kubebpf_service_map_connections_connect_time_seconds", MetricKind.Counter).Value, 12);
        Assert.Equal(3, Single(edges, "kubebpf_service_map_connections_connect_time_count", MetricKind.Counter).Value);

        // What does not add up stays the last window's gauge; nothing summed is a gauge too.
        Assert.Equal(6000, Single(gauges, "kubebpf_service_map_calls_latency_p99_ms", MetricKind.Gauge).Value);
        Assert.Equal(0, Single(gauges, "kubebpf_service_map_connections_active", MetricKind.Gauge).Value);
        var gaugeNames = Families(gauges).Select(f => f.Family.Name).ToList();
        Assert.DoesNotContain("kubebpf_service_map_calls_requests", gaugeNames);
        Assert.DoesNotContain(gaugeNames, n => n.Contains("_le_", StringComparison.Ordinal) || n.EndsWith("duration_sum_ms", StringComparison.Ordinal));
        Assert.Equal(0, metrics.Value("edge_histograms_skipped"));
    }

    [Fact]
    public async Task The_histogram_carries_the_maps_own_bucket_bounds_in_seconds()
    {
        var (gauges, edges, _, _) = PointGaugesTests.CreateWithEdges();
        await gauges.WriteAsync([Calls(requests: 1, errors: 0, timeouts: 0, sumMs: 2, p99: 2, buckets: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])], CancellationToken.None);

        var text = new StringBuilder();
        TextExposition.Write(text, Families(edges), openMetrics: false);

        Assert.Contains("kubebpf_service_map_calls_duration_seconds_bucket{node=\"n1\",edge=\"shop/cart->shop/db\",source=\"shop/cart\",target=\"shop/db\",port=\"80\",protocol=\"http\",le=\"0.0025\"} 1", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("le=\"5.0\"} 1", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("# TYPE kubebpf_service_map_calls_requests_total counter", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idle_edges_expire_and_edges_beyond_the_series_bound_are_counted()
    {
        var (gauges, edges, metrics, time) = PointGaugesTests.CreateWithEdges(maxSeries: 3);
        await gauges.WriteAsync([Connections(connects: 1, sumMs: 0.1, count: 1, active: 1)], CancellationToken.None); // one edge series and one gauge (active)
        await gauges.WriteAsync([new MetricPoint("service_map_connections", [new("edge", "other")], [new("connects", FieldValue.Integer(1))], Now)], CancellationToken.None);
        await gauges.WriteAsync([new MetricPoint("service_map_connections", [new("edge", "third")], [new("connects", FieldValue.Integer(1))], Now)], CancellationToken.None);
        Assert.Equal(1, metrics.Value("series_overflow"));

        time.Advance(TimeSpan.FromMinutes(11));
        edges.Flush(Now, new CollectingPointWriter());

        Assert.Equal(2, metrics.Value("expired_edge_series"));
        Assert.Empty(Families(edges));
        Assert.Equal(1, metrics.Value("series")); // the gauge, expired by its own flush
    }

    private static SeriesSample Single(IMetricSource source, string name, MetricKind kind)
    {
        var family = source.Family(name);
        Assert.Equal(kind, family.Family.Kind);
        return Assert.Single(family.Series);
    }

    private static List<FamilySample> Families(IMetricSource source)
    {
        var families = new List<FamilySample>();
        source.Collect(families);
        return families;
    }

    // As the service map writes them: le_1ms ... le_5000ms, le_inf.
    internal static MetricPoint Calls(long requests, long errors, long timeouts, double sumMs, double p99, long[] buckets)
    {
        string[] bounds = ["1", "2.5", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000"];
        return new MetricPoint("service_map_calls", Edge,
        [
            new("requests", FieldValue.Integer(requests)), new("errors", FieldValue.Integer(errors)), new("client_errors", FieldValue.Integer(0)),
            new("timeouts", FieldValue.Integer(timeouts)), new("duration_sum_ms", FieldValue.Float(sumMs)), new("duration_max_ms", FieldValue.Float(p99)),
            new("latency_p99_ms", FieldValue.Float(p99)),
            .. buckets.Select((n, i) => new Field(i < bounds.Length ? $"le_{bounds[i]}ms" : "le_inf", FieldValue.Integer(n))),
        ], Now);
    }

    private static MetricPoint Connections(long connects, double sumMs, long count, long active) => new("service_map_connections", Edge,
    [
        new("connects", FieldValue.Integer(connects)), new("refused", FieldValue.Integer(0)), new("connect_time_sum_ms", FieldValue.Float(sumMs)),
        new("connect_time_count", FieldValue.Integer(count)), new("active", FieldValue.Integer(active)),
    ], Now);
}
