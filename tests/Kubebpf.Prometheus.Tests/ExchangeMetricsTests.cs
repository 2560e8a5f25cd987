using Kubebpf.Prometheus.Metrics;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Kubebpf.Prometheus.Tests;

public sealed class ExchangeMetricsTests
{
    [Fact]
    public void Requests_are_counted_per_pod_direction_method_route_and_status_class_and_the_histogram_count_equals_them()
    {
        var metrics = new TestAgentMetrics();
        var exchanges = Samples.ExchangeMetrics(Samples.Options(), metrics);
        exchanges.OnEvents([
            Samples.Http("/cart"), Samples.Http("/cart"), Samples.Http("/cart", status: 503),
            Samples.Http("/cart", direction: TrafficDirection.Out, workload: Samples.Payments),
        ]);
        exchanges.OnEvents([Samples.Http("/cart")]);

        var requests = exchanges.Family("kubebpf_http_requests");
        Assert.Equal(MetricKind.Counter, requests.Family.Kind);
        var byLabels = requests.Series.ToDictionary(s => (s.Label("pod"), s.Label("direction"), s.Label("status_class")), s => s.Value);
        Assert.Equal(3, byLabels[("cart-7d9f-x2b4q", "in", "2xx")]);
        Assert.Equal(1, byLabels[("cart-7d9f-x2b4q", "in", "5xx")]);
        Assert.Equal(1, byLabels[("payments-0", "out", "2xx")]);
        Assert.Equal(3, byLabels.Count);

        var cart = requests.Series.First(s => s.Label("status_class") == "2xx" && s.Label("direction") == "in");
        Assert.Equal(
            [new("namespace", "shop"), new("workload_kind", "Deployment"), new("workload", "cart"), new("pod", "cart-7d9f-x2b4q"),
             new("direction", "in"), new("method", "GET"), new("route", "/cart"), new("status_class", "2xx")],
            cart.Labels);

        var duration = exchanges.Family("kubebpf_http_request_duration_seconds");
        Assert.Equal(MetricKind.Histogram, duration.Family.Kind);
        Assert.Equal(requests.Series.Select(s => s.Value).Order(), duration.Series.Select(s => s.Value).Order());
        Assert.All(duration.Series, s => Assert.Equal(s.Value, s.CumulativeBuckets![^1]));
        Assert.Equal(3, metrics.Value("series"));
    }

    [Theory]
    [InlineData(300_000_000L, 0.5)]
    [InlineData(250_000_000L, 0.25)]
    [InlineData(250_000_001L, 0.5)]
    [InlineData(100_000L, 0.0001)]
    [InlineData(11_000_000_000L, double.PositiveInfinity)]
    public void A_duration_lands_in_the_first_bucket_whose_bound_is_at_least_it(long durationNs, double expectedLe)
    {
        var exchanges = Samples.ExchangeMetrics(Samples.Options(), new TestAgentMetrics());
        exchanges.OnEvents([Samples.Http("/slow", durationNs: durationNs)]);

        var series = Assert.Single(exchanges.Family("kubebpf_http_request_duration_seconds").Series);
        var bounds = LatencyBuckets.UpperBounds.Append(double.PositiveInfinity).ToArray();
        var firstCounted = Array.FindIndex(series.CumulativeBuckets!, count => count == 1);
        Assert.Equal(expectedLe, bounds[firstCounted]);
        Assert.Equal(durationNs / 1e9, series.Sum, 9);
    }

    [Fact]
    public void Routes_beyond_the_per_workload_cap_become_other_and_are_counted()
    {
        var metrics = new TestAgentMetrics();
        var exchanges = Samples.ExchangeMetrics(Samples.Options(maxRoutes: 2), metrics);
        exchanges.OnEvents([Samples.Http("/a"), Samples.Http("/b"), Samples.Http("/c"), Samples.Http("/d"), Samples.Http("/a")]);

        var routes = exchanges.Family("kubebpf_http_requests").Series.ToDictionary(s => s.Label("route")!, s => s.Value);
        Assert.Equal(new Dictionary<string, double> { ["/a"] = 2, ["/b"] = 1, [RouteTable.Other] = 2 }, routes);
        Assert.Equal(2, metrics.Value("routes_collapsed"));
    }

    [Fact]
    public void The_http_normaliser_turns_ids_into_one_route()
    {
        var exchanges = Samples.ExchangeMetrics(Samples.Options(), new TestAgentMetrics());
        exchanges.OnEvents([Samples.Http("/users/123"), Samples.Http("/users/456")]);

        var series = Assert.Single(exchanges.Family("kubebpf_http_requests").Series);
        Assert.Equal(2, series.Value);
        Assert.DoesNotContain("123", series.Label("route"), StringComparison.Ordinal);
    }

    [Fact]
    public void Series_beyond_MaxSeries_are_dropped_and_counted_and_existing_ones_still_count()
    {
        var metrics = new TestAgentMetrics();
        var exchanges = Samples.ExchangeMetrics(Samples.Options(maxSeries: 2), metrics);
        exchanges.OnEvents([Samples.Http("/a"), Samples.Http("/b"), Samples.Http("/c"), Samples.Http("/a")]);

        var routes = exchanges.Family("kubebpf_http_requests").Series.ToDictionary(s => s.Label("route")!, s => s.Value);
        Assert.Equal(new Dictionary<string, double> { ["/a"] = 2, ["/b"] = 1 }, routes);
        Assert.Equal(1, metrics.Value("series_overflow"));
        Assert.Equal(2, metrics.Value("series"));
    }

    [Fact]
    public void Idle_series_expire_at_flush_and_free_their_room_while_active_ones_keep_their_totals()
    {
        var metrics = new TestAgentMetrics();
        var time = new FakeTimeProvider();
        var options = Samples.Options(maxSeries: 2);
        var exchanges = Samples.ExchangeMetrics(options, metrics, time);
        exchanges.OnEvents([Samples.Http("/idle"), Samples.Http("/busy")]);
        time.Advance(options.SeriesIdleTimeout / 2);
        exchanges.OnEvents([Samples.Http("/busy")]);
        time.Advance(options.SeriesIdleTimeout / 2 + TimeSpan.FromSeconds(1));
        exchanges.Flush(0, new CollectingPointWriter());

        Assert.Equal(1, metrics.Value("expired_series"));
        Assert.Equal(1, metrics.Value("series"));
        exchanges.OnEvents([Samples.Http("/new")]);
        var routes = exchanges.Family("kubebpf_http_requests").Series.ToDictionary(s => s.Label("route")!, s => s.Value);
        Assert.Equal(new Dictionary<string, double> { ["/busy"] = 2, ["/new"] = 1 }, routes);
        Assert.Equal(0, metrics.Value("series_overflow"));
    }

    [Fact]
    public void A_protocol_whose_code_throws_is_counted_and_the_rest_of_the_batch_still_counts()
    {
        var metrics = new TestAgentMetrics();
        var exchanges = Samples.ExchangeMetrics(Samples.Options(), metrics);
        var broken = new ProtocolDescriptor("broken") { CanonicalOperation = _ => throw new InvalidOperationException("bug") };
        exchanges.OnEvents([Samples.Http("/a") with { Protocol = broken }, Samples.Http("/a")]);

        Assert.Equal(1, metrics.Value("descriptor_failures"));
        Assert.Equal(1, Assert.Single(exchanges.Family("kubebpf_http_requests").Series).Value);
    }

    [Fact]
    public void An_exchange_of_an_unknown_workload_is_labelled_workload_unknown()
    {
        var exchanges = Samples.ExchangeMetrics(Samples.Options(), new TestAgentMetrics());
        exchanges.OnEvents([Samples.Http("/a") with { Workload = null }]);

        var series = Assert.Single(exchanges.Family("kubebpf_http_requests").Series);
        Assert.Equal("unknown", series.Label("workload"));
        Assert.Null(series.Label("pod"));
    }
}
