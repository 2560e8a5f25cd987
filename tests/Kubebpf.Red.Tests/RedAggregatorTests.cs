using Kubebpf.Red.Aggregation;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Protocols;
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
        Assert.Equal(0, point.Field("timeouts")!.Value.AsLong);
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

        var points = _output.Measurement("http_red");
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

        var routes = _output.Measurement("http_red")
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
    public void A_repeated_collapsed_route_is_counted_as_collapsed_every_time()
    {
        var aggregator = Aggregator(_metrics, maxRoutesPerWorkload: 1);
        aggregator.Feed(Make("/a"), Make("/b"), Make("/b"), Make("/a"));
        aggregator.Feed(Make("/b"));
        aggregator.Flush(WindowEnd, _output);

        Assert.Equal((2L, 3L), (Route("/a").Field("requests")!.Value.AsLong, Route("{other}").Field("requests")!.Value.AsLong));
        Assert.Equal(3, _metrics.Value("routes_collapsed"));
    }

    [Fact]
    public void A_series_dropped_at_a_flush_counts_its_next_exchange_in_a_new_series()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(Make("/a"), Make("/a"));
        aggregator.Flush(WindowEnd, _output);
        aggregator.Flush(WindowEnd + TenSecondsNs, _output); // a window without /a: its series is dropped
        _output.Clear();

        aggregator.Feed(Make("/a"));
        aggregator.Flush(WindowEnd + (2 * TenSecondsNs), _output);

        Assert.Equal(1, Route("/a").Field("requests")!.Value.AsLong);
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
            var batch = new Exchange[BatchSize];
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

        var points = _output.Measurement("http_red");
        var routeLevel = points.Where(p => p.Tag("route") != "*").ToArray();
        var rollups = points.Where(p => p.Tag("route") == "*").ToArray();
        const long Total = Threads * BatchesPerThread * BatchSize;
        Assert.Equal(Total, routeLevel.Sum(p => p.Field("requests")!.Value.AsLong));
        Assert.Equal(Total, rollups.Sum(p => p.Field("requests")!.Value.AsLong));
        Assert.Equal(Total / 10, routeLevel.Sum(p => p.Field("errors_5xx")!.Value.AsLong));
        Assert.Equal(Total / 10, routeLevel.Sum(p => p.Field("errors_4xx")!.Value.AsLong));
        Assert.Equal(Total / 2, rollups.Where(p => p.Tag("direction") == "out").Sum(p => p.Field("requests")!.Value.AsLong));
    }

    [Fact]
    public void Http_red_keeps_its_fields_in_their_order_with_timeouts_added()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(Make("/a"));

        aggregator.Flush(WindowEnd, _output);

        Assert.Equal(
            ["requests", "rate", "errors_4xx", "errors_5xx", "error_rate", "client_error_rate", "timeouts", "latency_p50_ms",
                "latency_p90_ms", "latency_p99_ms", "latency_max_ms", "latency_mean_ms", "window_s"],
            Route("/a").Fields.Select(f => f.Key));
    }

    [Fact]
    public void Each_protocol_gets_its_own_measurement_series_and_roll_up_named_by_its_descriptor()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(
            Make("/a", direction: TrafficDirection.Out),
            MakeRedis("GET", "user:1"),
            MakeRedis("GET", "user:1", ExchangeOutcome.Error),
            MakeRedis("SET", "user:1", ExchangeOutcome.Timeout, durationNs: 5_000 * Ms),
            MakeRedis("GET", "user:1", ExchangeOutcome.ClientError));

        aggregator.Flush(WindowEnd, _output);

        var redis = _output.Measurement("redis_red");
        var get = Assert.Single(redis, p => p.Tag("operation") == "GET");
        Assert.Equal(
            [
                new Tag("node", "node-1"),
                new Tag("namespace", "shop"),
                new Tag("workload_kind", "Deployment"),
                new Tag("workload", "cart"),
                new Tag("pod", "cart-7d9f-x2b4q"),
                new Tag("service", "cart-svc"),
                new Tag("direction", "out"),
                new Tag("operation", "GET"),
                new Tag("resource", "user:1"),
            ],
            get.Tags);
        Assert.Equal(3, get.Field("requests")!.Value.AsLong);
        Assert.Equal(1, get.Field("errors")!.Value.AsLong);
        Assert.Equal(1, get.Field("client_errors")!.Value.AsLong);
        Assert.Equal(0, get.Field("timeouts")!.Value.AsLong);
        var set = Assert.Single(redis, p => p.Tag("operation") == "SET");
        Assert.Equal(1, set.Field("errors")!.Value.AsLong);
        Assert.Equal(1, set.Field("timeouts")!.Value.AsLong);
        Assert.Equal(1.0, set.Field("error_rate")!.Value.AsDouble);
        Assert.Equal(5_000.0, set.Field("latency_max_ms")!.Value.AsDouble);
        var rollup = Assert.Single(redis, p => p.Tag("operation") == "*");
        Assert.Equal("*", rollup.Tag("resource"));
        Assert.Equal(4, rollup.Field("requests")!.Value.AsLong);
        Assert.Equal(2, rollup.Field("errors")!.Value.AsLong);
        Assert.Equal(0.5, rollup.Field("error_rate")!.Value.AsDouble);
        Assert.Equal(0.25, rollup.Field("client_error_rate")!.Value.AsDouble);
        Assert.Equal(2, _output.Measurement("http_red").Count); // its route and its own roll-up
    }

    [Fact]
    public void A_protocol_grouping_by_status_gets_a_series_per_status_and_one_roll_up_across_all_statuses()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(
            Lookup("NOERROR", ExchangeOutcome.Success, 1 * Ms),
            Lookup(new string("NOERROR".AsSpan()), ExchangeOutcome.Success, 2 * Ms), // equal statuses in distinct strings
            Lookup("NXDOMAIN", ExchangeOutcome.ClientError, 3 * Ms),
            Lookup("NXDOMAIN", ExchangeOutcome.Success, 4 * Ms), // a negative answer that is no error (a search-path candidate)
            Lookup("TIMEOUT", ExchangeOutcome.Timeout, 5_000 * Ms),
            Make("/a", status: 200),
            Make("/a", status: 503));

        aggregator.Flush(WindowEnd, _output);

        var lookup = _output.Measurement("lookup_red");
        Assert.Equal(
            [("*", 5L, 1L, 1L), ("NOERROR", 2L, 0L, 0L), ("NXDOMAIN", 2L, 1L, 0L), ("TIMEOUT", 1L, 0L, 1L)],
            lookup.Select(p => (p.Tag("rcode")!, p.Field("requests")!.Value.AsLong, p.Field("client_errors")!.Value.AsLong, p.Field("errors")!.Value.AsLong))
                .OrderBy(p => p.Item1, StringComparer.Ordinal));
        var nxdomain = Assert.Single(lookup, p => p.Tag("rcode") == "NXDOMAIN");
        Assert.Equal(
            ["node", "namespace", "workload_kind", "workload", "pod", "service", "direction", "operation", "resource", "rcode"],
            nxdomain.Tags.Select(t => t.Key));
        var rollup = Assert.Single(lookup, p => p.Tag("rcode") == "*");
        Assert.Equal(("*", "*"), (rollup.Tag("operation"), rollup.Tag("resource")));
        Assert.Equal(5_000.0, rollup.Field("latency_max_ms")!.Value.AsDouble);
        Assert.Equal(1_002.0, rollup.Field("latency_mean_ms")!.Value.AsDouble);
        Assert.Equal(4, _metrics.Value("red_series")); // three lookup statuses and one HTTP route

        // HTTP does not group by status: its 2xx and 5xx share the route's series, whose tags name no status.
        var route = Route("/a");
        Assert.Equal((2L, 1L), (route.Field("requests")!.Value.AsLong, route.Field("errors_5xx")!.Value.AsLong));
        Assert.DoesNotContain(_output.Measurement("http_red").SelectMany(p => p.Tags), t => t.Key == "status_class");
    }

    [Fact]
    public void Without_a_normaliser_resources_are_kept_as_sent_cut_to_the_protocol_maximum()
    {
        var shortKeys = new ProtocolDescriptor("kv") { MaxResourceLength = 6 };
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(
            Any(shortKeys, "GET", "user:12345", -1, "ok", ExchangeOutcome.Success),
            Any(shortKeys, "GET", "user:1", -1, "ok", ExchangeOutcome.Success),
            Any(shortKeys, "GET", "", -1, "ok", ExchangeOutcome.Success),
            MakeRedis("GET", "user:12345"));

        aggregator.Flush(WindowEnd, _output);

        var kv = _output.Measurement("kv_red").Where(p => p.Tag("operation") != "*").ToArray();
        Assert.Equal(2, Assert.Single(kv, p => p.Tag("resource") == "user:1").Field("requests")!.Value.AsLong);
        Assert.Null(Assert.Single(kv, p => p.Tag("resource") is null).Tag("resource")); // empty: tag left out
        Assert.Single(_output.Measurement("redis_red"), p => p.Tag("resource") == "user:12345");
    }

    [Fact]
    public void The_resource_cap_applies_per_protocol()
    {
        var aggregator = Aggregator(_metrics, maxRoutesPerWorkload: 1);
        aggregator.Feed(Make("/a"), Make("/b"), MakeRedis("GET", "k1"), MakeRedis("GET", "k2"));

        aggregator.Flush(WindowEnd, _output);

        Assert.Equal(["/a", "{other}"], _output.Measurement("http_red").Select(p => p.Tag("route")).Where(r => r != "*").Order());
        Assert.Equal(["k1", "{other}"], _output.Measurement("redis_red").Select(p => p.Tag("resource")).Where(r => r != "*").Order());
        Assert.Equal(2, _metrics.Value("routes_collapsed"));
    }

    [Fact]
    public void A_protocol_idle_for_a_window_starts_again_with_an_empty_table_while_its_workload_stays()
    {
        var aggregator = Aggregator(_metrics, maxRoutesPerWorkload: 1);
        aggregator.Feed(MakeRedis("GET", "k1"), Make("/a"));
        aggregator.Flush(WindowEnd, _output);
        aggregator.Feed(Make("/a"));
        aggregator.Flush(WindowEnd + TenSecondsNs, _output);
        _output.Clear();

        aggregator.Feed(MakeRedis("GET", "k2"), MakeRedis("GET", "k2", workload: CartReplica));
        aggregator.Flush(WindowEnd + (2 * TenSecondsNs), _output);

        Assert.Equal(["k2", "k2"], _output.Measurement("redis_red").Select(p => p.Tag("resource")).Where(r => r != "*"));
        Assert.Equal(0, _metrics.Value("routes_collapsed"));
    }

    [Fact]
    public void Equal_operations_in_distinct_strings_share_one_series()
    {
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(MakeRedis(new string("GET".AsSpan())), MakeRedis(new string("GET".AsSpan())));

        aggregator.Flush(WindowEnd, _output);

        Assert.Equal(2, Assert.Single(_output.Measurement("redis_red"), p => p.Tag("operation") == "GET").Field("requests")!.Value.AsLong);
    }

    [Fact]
    public void Exchanges_whose_protocol_code_fails_are_counted_and_left_out()
    {
        var throwing = new ProtocolDescriptor("broken") { NormalizeResource = (_, _) => throw new InvalidOperationException("bug") };
        var nullOperation = new ProtocolDescriptor("null_operation") { CanonicalOperation = _ => null! };
        var aggregator = Aggregator(_metrics);
        aggregator.Feed(
            Make("/a"),
            Any(throwing, "GET", "/", 200, "2xx", ExchangeOutcome.Success),
            Any(nullOperation, "GET", "/", 200, "2xx", ExchangeOutcome.Success),
            default,
            Make("/a"));

        aggregator.Flush(WindowEnd, _output);

        Assert.Equal(2, Route("/a").Field("requests")!.Value.AsLong);
        Assert.Equal(["http_red"], _output.Points.Select(p => p.Measurement).Distinct());
        Assert.Equal(3, _metrics.Value("red_descriptor_failures"));
    }

    private static Exchange Lookup(string rcode, ExchangeOutcome outcome, long durationNs) =>
        Any(LookupProtocol, "A", "web.example", 0, rcode, outcome) with { DurationNs = durationNs, Direction = TrafficDirection.Out };

    private MetricPoint Route(string route) =>
        Assert.Single(_output.Measurement("http_red"), p => p.Tag("route") == route);

    private static void AssertWithinHistogramError(double expected, double actual) =>
        Assert.InRange(actual, expected * (1 - LatencyHistogram.MaxRelativeError), expected * (1 + LatencyHistogram.MaxRelativeError));
}
