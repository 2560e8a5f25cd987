using Kubebpf.Red.Aggregation;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Testing;
using static Kubebpf.Red.Tests.Exchanges;

namespace Kubebpf.Red.Tests;

public class RedAggregatorTests
{
    private const long WindowEnd = WindowStartUnixNs + TenSecondsNs;
    private const long Ms = 1_000_000;

    private readonly CollectingPointWriter _output = new();
    private readonly TestAgentMetrics _metrics = new();

    [Fact]
    public void Counts_rates_errors_and_latency_of_one_window()
    {
        var aggregator = Aggregator(_metrics);
        int[] statuses = [200, 200, 404, 200, 503, 200, 404, 200, 200, 200];
        aggregator.OnEvents(statuses.Select((status, i) => Make($"/users/{i}", status, (i + 1) * Ms)).ToArray());

        aggregator.Flush(WindowEnd, _output);

        var point = Route("/users/{id}");
        Assert.Equal(WindowEnd, point.TimestampUnixNs);
        Assert.Equal(10, point.Field("requests")!.Value.AsLong);
        Assert.Equal(1.0, point.Field("rate")!.Value.AsDouble);
        Assert.Equal(2, point.Field("errors_4xx")!.Value.AsLong);
        Assert.Equal(1, point.Field("errors_5xx")!.Value.AsLong);
        Assert.Equal(0.1, point.Field("error_rate")!.Value.AsDouble);
        Assert.Equal(0.2, point.Field("client_error_rate")!.Value.AsDouble);
        AssertWithinHistogramError(5.0, point.Field("latency_p50_ms")!.Value.AsDouble);
        AssertWithinHistogramError(9.0, point.Field("latency_p90_ms")!.Value.AsDouble);
        Assert.Equal(10.0, point.Field("latency_p99_ms")!.Value.AsDouble);
        Assert.Equal(10.0, point.Field("latency_max_ms")!.Value.AsDouble);
        Assert.Equal(5.5, point.Field("latency_mean_ms")!.Value.AsDouble);
        Assert.Equal(10.0, point.Field("window_s")!.Value.AsDouble);
    }

    [Fact]
    public void Each_flush_starts_a_new_window()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(Make("/a", durationNs: 100 * Ms), Make("/a", status: 500));
        aggregator.Flush(WindowEnd, _output);
        _output.Clear();

        aggregator.Feed(Make("/a", durationNs: 2 * Ms), Make("/a", durationNs: 2 * Ms), Make("/a", durationNs: 2 * Ms));
        aggregator.Flush(WindowEnd + (5 * TenSecondsNs / 10), _output);

        var point = Route("/a");
        Assert.Equal(3, point.Field("requests")!.Value.AsLong);
        Assert.Equal(0, point.Field("errors_5xx")!.Value.AsLong);
        Assert.Equal(2.0, point.Field("latency_max_ms")!.Value.AsDouble);
        Assert.Equal(5.0, point.Field("window_s")!.Value.AsDouble);
        Assert.Equal(0.6, point.Field("rate")!.Value.AsDouble);
    }

    [Fact]
    public void A_window_without_requests_writes_nothing_and_drops_idle_series()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(Make("/a"));
        aggregator.Flush(WindowEnd, _output);
        Assert.Equal(1, _metrics.Value("red_series"));
        _output.Clear();

        aggregator.Flush(WindowEnd + TenSecondsNs, _output);

        Assert.Empty(_output.Points);
        Assert.Equal(0, _metrics.Value("red_series"));
    }

    [Fact]
    public void The_roll_up_merges_every_method_and_route_of_a_workload_and_direction()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(
            Make("/a", durationNs: 1 * Ms),
            Make("/b/7", method: "POST", status: 502, durationNs: 30 * Ms),
            Make("/b/8", method: "POST", durationNs: 20 * Ms),
            Make("/a", direction: TrafficDirection.Out, durationNs: 4 * Ms));

        aggregator.Flush(WindowEnd, _output);

        var points = _output.Measurement(RedAggregator.Measurement);
        Assert.Equal(5, points.Count);
        var rollupIn = Assert.Single(points, p => p.Tag("route") == "*" && p.Tag("direction") == "in");
        Assert.Equal("*", rollupIn.Tag("method"));
        Assert.Equal(3, rollupIn.Field("requests")!.Value.AsLong);
        Assert.Equal(1, rollupIn.Field("errors_5xx")!.Value.AsLong);
        Assert.Equal(30.0, rollupIn.Field("latency_max_ms")!.Value.AsDouble);
        Assert.Equal(17.0, rollupIn.Field("latency_mean_ms")!.Value.AsDouble);
        var rollupOut = Assert.Single(points, p => p.Tag("route") == "*" && p.Tag("direction") == "out");
        Assert.Equal(1, rollupOut.Field("requests")!.Value.AsLong);
        Assert.Equal(2, Route("/b/{id}").Field("requests")!.Value.AsLong);
    }

    [Fact]
    public void Tags_carry_the_workload_direction_method_and_route_without_empty_values()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(Make("/pay", method: "POST", direction: TrafficDirection.Out, workload: Payments));

        aggregator.Flush(WindowEnd, _output);

        Assert.Equal(
            [
                new Tag("node", "node-2"),
                new Tag("namespace", "shop"),
                new Tag("workload_kind", "StatefulSet"),
                new Tag("workload", "payments"),
                new Tag("pod", "payments-0"),
                new Tag("direction", "out"),
                new Tag("method", "POST"),
                new Tag("route", "/pay"),
            ],
            Route("/pay").Tags);
    }

    [Fact]
    public void An_unresolved_workload_is_tagged_unknown()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(Make("/x", unknownWorkload: true));

        aggregator.Flush(WindowEnd, _output);

        Assert.Equal(
            [new Tag("workload", "unknown"), new Tag("direction", "in"), new Tag("method", "GET"), new Tag("route", "/x")],
            Route("/x").Tags);
    }

    [Fact]
    public void Equal_identities_in_distinct_instances_share_one_series()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(Make("/a"), Make("/a", workload: Cart with { }));

        aggregator.Flush(WindowEnd, _output);

        Assert.Equal(2, Route("/a").Field("requests")!.Value.AsLong);
    }

    [Fact]
    public void Non_standard_methods_share_the_method_other()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(Make("/a", method: "PURGE"), Make("/a", method: "X-CUSTOM"));

        aggregator.Flush(WindowEnd, _output);

        Assert.Equal("OTHER", Route("/a").Tag("method"));
        Assert.Equal(2, Route("/a").Field("requests")!.Value.AsLong);
    }

    [Fact]
    public void Routes_beyond_the_per_workload_cap_collapse_into_other_and_are_counted()
    {
        var aggregator = Aggregator(_metrics, maxRoutesPerWorkload: 2);
        aggregator.Feed(
            Make("/a"),
            Make("/b"),
            Make("/c"),
            Make("/d", workload: CartReplica),
            Make("/a", workload: CartReplica),
            Make("/e", workload: Payments));

        aggregator.Flush(WindowEnd, _output);

        var routes = _output.Measurement(RedAggregator.Measurement)
            .Where(p => p.Tag("route") != "*")
            .Select(p => $"{p.Tag("pod")} {p.Tag("route")} {p.Field("requests")!.Value.AsLong}")
            .Order()
            .ToArray();
        Assert.Equal(
            ["cart-7d9f-p8w2z /a 1", "cart-7d9f-p8w2z {other} 1", "cart-7d9f-x2b4q /a 1", "cart-7d9f-x2b4q /b 1",
                "cart-7d9f-x2b4q {other} 1", "payments-0 /e 1"],
            routes);
        Assert.Equal(2, _metrics.Value("routes_collapsed"));
    }

    [Fact]
    public void A_workload_idle_for_a_window_starts_again_with_an_empty_route_table()
    {
        var aggregator = Aggregator(_metrics, maxRoutesPerWorkload: 1);
        aggregator.Feed(Make("/a"));
        aggregator.Flush(WindowEnd, _output);
        aggregator.Flush(WindowEnd + TenSecondsNs, _output);
        _output.Clear();

        aggregator.Feed(Make("/b"));
        aggregator.Flush(WindowEnd + (2 * TenSecondsNs), _output);

        Assert.Equal(1, Route("/b").Field("requests")!.Value.AsLong);
        Assert.Equal(0, _metrics.Value("routes_collapsed"));
    }

    [Fact]
    public void Series_beyond_the_cap_are_left_out_and_counted()
    {
        var aggregator = Aggregator(_metrics, maxSeries: 2);
        aggregator.Feed(Make("/a"), Make("/b"), Make("/c"), Make("/c"), Make("/a"));

        aggregator.Flush(WindowEnd, _output);

        Assert.Equal(2, Route("/a").Field("requests")!.Value.AsLong);
        Assert.Equal(1, Route("/b").Field("requests")!.Value.AsLong);
        Assert.DoesNotContain(_output.Points, p => p.Tag("route") == "/c");
        Assert.Equal(2, _metrics.Value("series_overflow"));
        Assert.Equal(2, _metrics.Value("red_series"));
    }

    [Fact]
    public void Concurrent_feeding_while_flushing_preserves_every_exchange()
    {
        const int Threads = 2;
        const int BatchesPerThread = 1_000;
        const int BatchSize = 100;
        var aggregator = Aggregator(_metrics);
        var feeders = Enumerable.Range(0, Threads).Select(thread => new Thread(() =>
        {
            var batch = new HttpExchange[BatchSize];
            for (var b = 0; b < BatchesPerThread; b++)
            {
                for (var i = 0; i < BatchSize; i++)
                {
                    var status = i % 10 == 0 ? 500 : i % 10 == 1 ? 404 : 200;
                    batch[i] = Make($"/r{i % 4}/{b}", status, durationNs: (i + 1) * 1_000, direction: (TrafficDirection)thread);
                }

                aggregator.OnEvents(batch);
            }
        })).ToArray();

        foreach (var feeder in feeders)
        {
            feeder.Start();
        }

        var windowEnd = WindowEnd;
        while (feeders.Any(f => f.IsAlive))
        {
            aggregator.Flush(windowEnd++, _output);
        }

        aggregator.Flush(windowEnd, _output);

        var points = _output.Measurement(RedAggregator.Measurement);
        var routeLevel = points.Where(p => p.Tag("route") != "*").ToArray();
        var rollups = points.Where(p => p.Tag("route") == "*").ToArray();
        const long Total = Threads * BatchesPerThread * BatchSize;
        Assert.Equal(Total, routeLevel.Sum(p => p.Field("requests")!.Value.AsLong));
        Assert.Equal(Total, rollups.Sum(p => p.Field("requests")!.Value.AsLong));
        Assert.Equal(Total / 10, routeLevel.Sum(p => p.Field("errors_5xx")!.Value.AsLong));
        Assert.Equal(Total / 10, routeLevel.Sum(p => p.Field("errors_4xx")!.Value.AsLong));
        Assert.Equal(Total / 2, rollups.Where(p => p.Tag("direction") == "out").Sum(p => p.Field("requests")!.Value.AsLong));
    }

    private MetricPoint Route(string route) =>
        Assert.Single(_output.Measurement(RedAggregator.Measurement), p => p.Tag("route") == route);

    private static void AssertWithinHistogramError(double expected, double actual) =>
        Assert.InRange(actual, expected * (1 - LatencyHistogram.MaxRelativeError), expected * (1 + LatencyHistogram.MaxRelativeError));
}
