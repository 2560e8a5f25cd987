using FsCheck.Xunit;
using Kubebpf.Red.CallLog;
using Kubebpf.Sdk.CallLog;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Testing;
using static Kubebpf.Red.Tests.Exchanges;

namespace Kubebpf.Red.Tests;

/// <summary>The call-log policy: every error and slow call, a weighted uniform sample of the rest, everything counted.</summary>
public class CallLogSamplingTests
{
    private const long OneSecondNs = 1_000_000_000;
    private const long SlowNs = 100_000_000;

    private readonly CollectingPointWriter _output = new();
    private readonly TestAgentMetrics _metrics = new();

    /// <summary>
    /// Random traffic over a few windows, any budget and bound: per budget and class (errors, slow calls, the others)
    /// the weights add up exactly to the exchanges, errors and slow calls within their allowance are all kept with
    /// weight 1 (the first ones of the window), the bound holds, and the counters are the rest.
    /// </summary>
    [Property(MaxTest = 300)]
    public void Weights_add_up_exactly_per_budget_and_class_the_bound_holds_and_the_counters_are_the_rest(
        (byte Workload, bool Out, byte Outcome, byte DurationStep, byte Window)[] traffic, byte perSecond, byte atOncePerSecond, int seed)
    {
        traffic ??= [];
        var budget = perSecond % 12 + 1;
        var atOnce = atOncePerSecond % 4; // 0: no bound
        var output = new CollectingPointWriter(); // one per run: the class's own are shared by FsCheck's runs
        var metrics = new TestAgentMetrics();
        var writer = new CallLogWriter(
            output, metrics, new CallLogSamplingOptions { PerSecond = budget, AtOncePerSecond = atOnce }, new FixedTimeProvider(WindowStartUnixNs), null, new Random(seed));
        var workloads = new[] { Cart, CartReplica, Payments, null };
        var exchanges = traffic
            .Select((t, i) => (Window: t.Window % 3, Exchange: Make(
                status: (t.Outcome % 6) switch { 0 => 404, 1 => 503, _ => 200 },
                durationNs: t.DurationStep % 8 * 30_000_000, // 0 to 210 ms: a third of them slow
                direction: t.Out ? TrafficDirection.Out : TrafficDirection.In,
                workload: workloads[t.Workload % 4],
                unknownWorkload: t.Workload % 4 == 3,
                startUnixNs: WindowStartUnixNs + i)))
            .ToList();

        var windows = new List<List<MetricPoint>>();
        for (var window = 0; window < 3; window++)
        {
            output.Clear();
            writer.OnEvents([.. exchanges.Where(e => e.Window == window).Select(e => e.Exchange)]);
            writer.Flush(WindowStartUnixNs + (window + 1) * OneSecondNs, output);
            windows.Add([.. output.Points]);
        }

        for (var window = 0; window < 3; window++)
        {
            var sent = exchanges.Where(e => e.Window == window).Select(e => e.Exchange).ToList();
            var points = windows[window];
            Assert.Equal(
                sent.CountBy(e => (Budget(e), ClassOf(e))).Select(c => KeyValuePair.Create(c.Key, (long)c.Value)).OrderBy(c => c.Key).ToList(),
                points.GroupBy(p => (Budget(p), ClassOf(p))).Select(g => KeyValuePair.Create(g.Key, g.Sum(Weight))).OrderBy(c => c.Key).ToList());

            var kept = points.ToDictionary(p => p.TimestampUnixNs);
            var allowance = atOnce * (window == 0 ? 10 : 1); // the first window assumes the default 10 s, the others last 1 s
            foreach (var group in sent.Where(e => ClassOf(e) != Ordinary).GroupBy(e => (Budget(e), ClassOf(e))))
            {
                var firsts = atOnce == 0 ? group.ToList() : group.Take(allowance).ToList();
                Assert.All(firsts, e => Assert.Equal(1, Weight(kept[e.StartUnixNs])));
                Assert.InRange(points.Count(p => (Budget(p), ClassOf(p)) == group.Key), 1, atOnce == 0 ? group.Count() : allowance + atOnce);
            }

            Assert.All(points.Where(p => ClassOf(p) == Ordinary).CountBy(Budget), c => Assert.InRange(c.Value, 1, budget)); // one-second windows
        }

        var all = windows.SelectMany(w => w).ToList();
        foreach (var (counter, cls) in new[] { ("call_log_sampled_out", Ordinary), ("call_log_errors_sampled_out", Error), ("call_log_slow_sampled_out", Slow) })
        {
            Assert.Equal(exchanges.Count(e => ClassOf(e.Exchange) == cls) - all.Count(p => ClassOf(p) == cls), metrics.Value(counter));
        }

        Assert.Equal(0, metrics.Value("call_log_descriptor_failures") + metrics.Value("call_log_budget_overflow"));
    }

    [Fact]
    public void An_error_and_slow_call_storm_keeps_its_allowance_at_once_and_a_weighted_sample_of_the_rest_each_class_apart()
    {
        var writer = Writer(new CallLogSamplingOptions { PerSecond = 5, AtOncePerSecond = 10 });
        var storm = Enumerable.Range(0, 10_000)
            .Select(i => Make($"/{i}", status: i % 2 == 0 ? 500 : 200, durationNs: i % 10 < 6 ? SlowNs : 1_000, startUnixNs: WindowStartUnixNs + i))
            .ToArray(); // 5,000 errors, 3,000 slow successes, 2,000 others
        writer.OnEvents(storm);

        // The first window assumes 10 s: 100 errors and 100 slow calls at once, the first of each.
        Assert.Equal(
            [.. storm.Where(e => ClassOf(e) == Error).Take(100).Concat(storm.Where(e => ClassOf(e) == Slow).Take(100)).Select(e => e.StartUnixNs).Order()],
            _output.Points.Select(p => p.TimestampUnixNs).Order());
        Assert.All(_output.Points, p => Assert.Equal(1, Weight(p)));

        _output.Clear();
        writer.Flush(WindowStartUnixNs + TenSecondsNs, new CollectingPointWriter());
        Assert.Equal(
            [(Error, 100, 4_900L), (Ordinary, 50, 2_000L), (Slow, 100, 2_900L)],
            _output.Points.GroupBy(ClassOf).Select(g => (g.Key, g.Count(), g.Sum(Weight))).Order());
        Assert.Equal((4_800, 2_800, 1_950), (_metrics.Value("call_log_errors_sampled_out"), _metrics.Value("call_log_slow_sampled_out"), _metrics.Value("call_log_sampled_out")));

        // A one-second window next: its allowance is the length of the window before, 10 s; then 1 s.
        _output.Clear();
        writer.OnEvents([.. Enumerable.Range(0, 300).Select(i => Make($"/e{i}", status: 503))]);
        writer.Flush(WindowStartUnixNs + TenSecondsNs + OneSecondNs, _output);
        Assert.Equal((100 + 10, 300L), (_output.Points.Count, _output.Points.Sum(Weight)));

        _output.Clear();
        writer.OnEvents([.. Enumerable.Range(0, 300).Select(i => Make($"/e{i}", status: 503))]);
        Assert.Equal(10, _output.Points.Count);
        writer.Flush(WindowStartUnixNs + TenSecondsNs + 2 * OneSecondNs, _output);
        Assert.Equal((10 + 10, 300L), (_output.Points.Count, _output.Points.Sum(Weight)));
    }

    [Fact]
    public void AtOncePerSecond_zero_keeps_every_error_at_once_and_an_override_sets_it_per_workload()
    {
        var writer = Writer(new CallLogSamplingOptions { AtOncePerSecond = 0, Overrides = [new() { Workload = "shop/payments", AtOncePerSecond = 1 }] });
        writer.OnEvents([.. Enumerable.Range(0, 1000).Select(i => Make($"/{i}", status: 500, workload: i % 4 == 0 ? Payments : Cart))]);

        Assert.Equal(750 + 10, _output.Points.Count); // cart's 750; payments' first 10 (a 10 s first window at 1 per second)
        writer.Flush(WindowStartUnixNs + TenSecondsNs, _output);
        Assert.Equal(750 + 20, _output.Points.Count);
        Assert.Equal(250, _output.Points.Where(p => p.Tag("workload") == "payments").Sum(Weight));
        Assert.Equal(250 - 20, _metrics.Value("call_log_errors_sampled_out"));
    }

    [Fact]
    public void Errors_and_slow_calls_are_written_at_once_and_the_others_at_the_windows_end()
    {
        var writer = Writer(new CallLogSamplingOptions());
        writer.Feed(
            Make("/ok", startUnixNs: WindowStartUnixNs + 1),
            Make("/missing", status: 404, startUnixNs: WindowStartUnixNs + 2),
            Make("/broken", status: 500, startUnixNs: WindowStartUnixNs + 3),
            Make("/slow", durationNs: SlowNs, startUnixNs: WindowStartUnixNs + 4),
            MakeRedis("GET", outcome: ExchangeOutcome.Timeout, durationNs: 1000));

        Assert.Equal(["/missing", "/broken", "/slow", "user:1"], _output.Points.Select(Resource));
        Assert.All(_output.Points, p => Assert.Equal(1, Weight(p)));

        _output.Clear();
        writer.Flush(WindowStartUnixNs + TenSecondsNs, new CollectingPointWriter());
        var point = Assert.Single(_output.Points);
        Assert.Equal(("/ok", 1L), (Resource(point), Weight(point)));
    }

    [Fact]
    public void A_burst_beyond_the_budget_keeps_the_budget_each_weighing_its_share_and_counts_the_rest()
    {
        var writer = Writer(new CallLogSamplingOptions { PerSecond = 7 });
        writer.OnEvents([.. Enumerable.Range(0, 10_001).Select(i => Make($"/{i}", startUnixNs: WindowStartUnixNs + i))]);
        writer.Flush(WindowStartUnixNs + TenSecondsNs, _output);

        var points = _output.Measurement("http_requests");
        Assert.Equal(70, points.Count);
        Assert.Equal(10_001, points.Sum(Weight));
        Assert.Equal(61, points.Count(p => Weight(p) == 143)); // 10,001 = 70 × 142 + 61
        Assert.Equal(9, points.Count(p => Weight(p) == 142));
        Assert.Equal(70, points.Select(Resource).Distinct().Count());
        Assert.Equal(10_001 - 70, _metrics.Value("call_log_sampled_out"));
    }

    [Fact]
    public void The_sample_is_uniform_over_the_window()
    {
        // 2,000 windows of 1,000 exchanges, 10 kept each: every tenth of the window should get a tenth of the 20,000
        // kept, 2,000 ± 4.5 standard deviations (sd = sqrt(20,000 × 0.1 × 0.9) ≈ 42) with a fixed seed.
        var writer = Writer(new CallLogSamplingOptions { PerSecond = 1 }, seed: 42);
        var perTenth = new int[10];
        var exchanges = Enumerable.Range(0, 1000).Select(i => Make($"/{i}", startUnixNs: WindowStartUnixNs + i)).ToArray();
        for (var window = 1; window <= 2000; window++)
        {
            _output.Clear();
            writer.OnEvents(exchanges);
            writer.Flush(WindowStartUnixNs + window * TenSecondsNs, _output);
            foreach (var point in _output.Points)
            {
                perTenth[(point.TimestampUnixNs - WindowStartUnixNs) / 100]++;
            }
        }

        Assert.All(perTenth, count => Assert.InRange(count, 2000 - 190, 2000 + 190));
    }

    [Fact]
    public void A_window_shorter_than_assumed_keeps_no_more_than_its_own_budget()
    {
        // The first window's reservoir is sized for the default 10 s; this one lasted 2 s.
        var writer = Writer(new CallLogSamplingOptions { PerSecond = 5 });
        writer.OnEvents([.. Enumerable.Range(0, 1000).Select(i => Make($"/{i}", startUnixNs: WindowStartUnixNs + i))]);
        writer.Flush(WindowStartUnixNs + 2 * OneSecondNs, _output);

        Assert.Equal(10, _output.Points.Count);
        Assert.Equal(1000, _output.Points.Sum(Weight));
    }

    [Fact]
    public void Pods_of_one_workload_share_its_budget_and_directions_and_protocols_have_their_own()
    {
        var writer = Writer(new CallLogSamplingOptions { PerSecond = 1 });
        var exchanges = new List<Exchange>();
        for (var i = 0; i < 100; i++)
        {
            exchanges.Add(Make($"/a{i}", workload: Cart));
            exchanges.Add(Make($"/b{i}", workload: CartReplica));
            exchanges.Add(Make($"/c{i}", workload: Cart, direction: TrafficDirection.Out));
            exchanges.Add(MakeRedis(key: $"k{i}"));
        }

        writer.OnEvents([.. exchanges]);
        writer.Flush(WindowStartUnixNs + OneSecondNs, _output);

        Assert.Equal(3, _output.Points.Count);
        Assert.Equal(
            [("http_requests", "in", 200L), ("http_requests", "out", 100L), ("redis_requests", "out", 100L)],
            _output.Points.Select(p => (p.Measurement, p.Tag("direction")!, Weight(p))).Order());
        Assert.Equal(3, _metrics.Value("call_log_budgets"));
    }

    [Fact]
    public void An_override_applies_to_the_workloads_and_protocol_it_matches_the_first_match_winning()
    {
        var writer = Writer(new CallLogSamplingOptions
        {
            PerSecond = 1,
            Overrides =
            [
                new() { Workload = "shop/pay*", Protocol = "HTTP", SlowThreshold = TimeSpan.FromSeconds(1) },
                new() { Workload = "shop/*", PerSecond = 3 },
                new() { Workload = "unknown", SlowThreshold = TimeSpan.FromMilliseconds(10) },
            ],
        });
        writer.Feed(
            Make("/pay-slowish", durationNs: 500_000_000, workload: Payments), // under its own 1 s threshold: sampled
            Make("/cart-slowish", durationNs: 500_000_000, workload: Cart), // the default 100 ms: kept
            MakeRedis("GET", "pay-slowish", durationNs: 500_000_000, workload: Payments), // the first entry is for HTTP only
            Make("/unknown-20ms", durationNs: 20_000_000, unknownWorkload: true));

        Assert.Equal(["/cart-slowish", "pay-slowish", "/unknown-20ms"], _output.Points.Select(Resource));

        _output.Clear();
        writer.OnEvents([.. Enumerable.Range(0, 50).Select(i => Make($"/{i}", workload: Cart))]);
        writer.Flush(WindowStartUnixNs + OneSecondNs, _output);
        Assert.Equal(3 + 1, _output.Points.Count); // cart: shop/* allows 3; payments' one HTTP exchange
    }

    [Fact]
    public void Beyond_MaxWorkloads_the_further_budgets_share_one_and_still_add_up()
    {
        var writer = Writer(new CallLogSamplingOptions { PerSecond = 2, MaxWorkloads = 1 });
        var exchanges = Enumerable.Range(0, 30).Select(i => Make($"/{i}", workload: i % 3 == 0 ? Cart : Payments)).ToList();
        exchanges.AddRange(Enumerable.Range(0, 10).Select(i => Make($"/u{i}", unknownWorkload: true)));
        writer.OnEvents([.. exchanges]);
        writer.Flush(WindowStartUnixNs + OneSecondNs, _output);

        Assert.Equal(10, _output.Points.Where(p => p.Tag("workload") == "cart").Sum(Weight));
        Assert.Equal(30, _output.Points.Where(p => p.Tag("workload") != "cart").Sum(Weight));
        Assert.Equal(4, _output.Points.Count); // two for cart, two for the shared budget
        Assert.Equal(30, _metrics.Value("call_log_budget_overflow"));
    }

    [Fact]
    public void Budgets_idle_for_a_window_are_dropped_and_the_held_exchanges_released()
    {
        var writer = Writer(new CallLogSamplingOptions());
        writer.Feed(Make("/a", workload: Cart), Make("/b", workload: Payments));
        writer.Flush(WindowStartUnixNs + OneSecondNs, _output);
        Assert.Equal(2, _metrics.Value("call_log_budgets"));

        writer.Feed(Make("/c", workload: Cart));
        writer.Flush(WindowStartUnixNs + 2 * OneSecondNs, _output);
        Assert.Equal(1, _metrics.Value("call_log_budgets"));

        writer.Flush(WindowStartUnixNs + 3 * OneSecondNs, _output);
        Assert.Equal(0, _metrics.Value("call_log_budgets"));
        Assert.Equal(["/a", "/b", "/c"], _output.Points.Select(Resource));
    }

    [Fact]
    public void PerSecond_zero_keeps_errors_and_slow_calls_only()
    {
        var writer = Writer(new CallLogSamplingOptions { PerSecond = 0 });
        writer.Feed(Make("/ok"), Make("/bad", status: 500), Make("/slow", durationNs: SlowNs));
        writer.Flush(WindowStartUnixNs + OneSecondNs, _output);

        Assert.Equal(["/bad", "/slow"], _output.Points.Select(Resource));
        Assert.Equal(1, _metrics.Value("call_log_sampled_out"));
    }

    [Fact]
    public void Without_sampling_every_exchange_is_written_at_once_with_weight_one()
    {
        var writer = Writer(new CallLogSamplingOptions { Enabled = false, PerSecond = 1 });
        writer.OnEvents([.. Enumerable.Range(0, 100).Select(i => Make($"/{i}"))]);
        Assert.Equal(100, _output.Points.Count);

        writer.Flush(WindowStartUnixNs + OneSecondNs, _output);
        Assert.Equal(100, _output.Points.Count);
        Assert.All(_output.Points, p => Assert.Equal(1, Weight(p)));
        Assert.Equal(0, _metrics.Value("call_log_sampled_out"));
    }

    private static long Weight(MetricPoint point) => point.Field("weight")!.Value.AsLong;

    private static string Resource(MetricPoint point) => (point.Field("path") ?? point.Field("resource"))!.Value.AsString;

    private const string Error = "error";
    private const string Slow = "slow";
    private const string Ordinary = "ordinary";

    private static string ClassOf(MetricPoint point) => ClassOf(point.Field("status")!.Value.AsLong, point.Field("duration_ns")!.Value.AsLong);

    private static string ClassOf(Exchange exchange) => ClassOf(exchange.Code, exchange.DurationNs);

    private static string ClassOf(long status, long durationNs) => status >= 400 ? Error : durationNs >= SlowNs ? Slow : Ordinary;

    private static string Budget(Exchange exchange) =>
        $"{exchange.Workload?.WorkloadName ?? "unknown"} {(exchange.Direction == TrafficDirection.In ? "in" : "out")}";

    private static string Budget(MetricPoint point) => $"{point.Tag("workload")} {point.Tag("direction")}";

    private CallLogWriter Writer(CallLogSamplingOptions options, int seed = 1) =>
        new(_output, _metrics, options, new FixedTimeProvider(WindowStartUnixNs), peerNames: null, new Random(seed));
}
