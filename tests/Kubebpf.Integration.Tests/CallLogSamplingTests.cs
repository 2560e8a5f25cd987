using System.Globalization;
using Kubebpf.Testing;
using Kubebpf.Testing.Otlp;
using Xunit.Abstractions;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// The call-log policy with real nginx and a small budget: a burst of fast successful calls is sampled, every error and
/// slow call is kept, and the weights add up to exactly what nginx served and R.E.D. counted; errors and slow calls
/// hammered beyond their allowance are bounded, in the InfluxDB call log and the OTLP one alike, their weights still
/// adding up to nginx's count of each.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class CallLogSamplingTests(InfluxDbServer influx, ITestOutputHelper output)
{
    private const int Fast = 3000;
    private const int Missing = 37;
    private const int Slow = 5;
    private const int Served = Fast + Missing + Slow;
    private const int PerSecond = 5;
    private const int SlowPort = 8081;
    private const long SlowDelayMs = 150; // above the 100 ms threshold
    private const int Failing = 2000;
    private const int Slowed = 800;
    private const int SlowConnections = 40; // 800 calls of 150 ms in about 3 s
    private const int AtOncePerSecond = 5;

    // /slow goes through nginx to a slow upstream inside the server pod (its loopback, which the agent does not observe).
    private static readonly string Locations = $$"""
        location = /ok { return 200 "ok\n"; }
        location = /slow { proxy_pass http://127.0.0.1:{{SlowPort}}; }
        location = /fail { return 500 "failed\n"; }
        location / { return 404 "not found\n"; }
        """;

    /// <summary>argv: host, path, requests, connections. Keep-alive GETs spread over the connections; prints each status's count.</summary>
    private const string Burst = """
        import collections, http.client, sys, threading
        host, path, total, connections = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        statuses = collections.Counter()
        lock = threading.Lock()

        def run(n):
            conn = http.client.HTTPConnection(host, 80, timeout=30)
            for _ in range(n):
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                with lock:
                    statuses[response.status] += 1
            conn.close()

        threads = [threading.Thread(target=run, args=(total // connections + (1 if i < total % connections else 0),)) for i in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(" ".join(f"{s}:{n}" for s, n in sorted(statuses.items())))
        """;

    [Fact]
    public async Task A_burst_is_sampled_within_the_budget_errors_and_slow_calls_are_all_kept_and_weights_add_up_to_what_nginx_served()
    {
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, Locations);
        await StartSlowServerAsync(scenario);
        await scenario.StartAgentAsync(new Dictionary<string, object>
        {
            ["Red"] = new { CallLog = new { Sampling = new { PerSecond, SlowThreshold = "00:00:00.100" } } },
        });

        var host = scenario.Server.IPv4;
        Assert.Equal($"200:{Fast}", PodPython.Run(scenario.Client, Burst, host, "/ok", $"{Fast}", "4").Trim());
        Assert.Equal($"404:{Missing}", PodPython.Run(scenario.Client, Burst, host, "/missing", $"{Missing}", "1").Trim());
        Assert.Equal($"200:{Slow}", PodPython.Run(scenario.Client, Burst, host, "/slow", $"{Slow}", "1").Trim());
        Assert.Equal(Served, (await nginx.ReadAccessLogAsync(Served, TimeSpan.FromSeconds(10))).Count);

        await Poll.UntilAsync(
            async () => (await WeightsAsync(scenario)).Values.Sum() >= 2 * Served, $"call-log weights adding up to {Served} per side", TimeSpan.FromSeconds(60));
        Assert.Equal(0, await scenario.StopAgentAsync());
        var weights = await WeightsAsync(scenario);
        await scenario.AssertNothingLostAsync(2 * Served);

        var red = await scenario.LastAgentMetricsAsync("Red");
        var points = 0;
        foreach (var (pod, direction) in new[] { (scenario.ServerPod, "in"), (scenario.ClientPod, "out") })
        {
            var calls = await scenario.PointsAsync("http_requests", $"WHERE pod = '{pod}' AND direction = '{direction}'");
            var missing = calls.Where(c => c["path"].GetString() == "/missing").ToList();
            var slow = calls.Where(c => c["path"].GetString() == "/slow").ToList();
            var ordinary = calls.Where(c => c["path"].GetString() == "/ok").ToList();
            Assert.Equal((Missing, Slow, calls.Count), (missing.Count, slow.Count, missing.Count + slow.Count + ordinary.Count));
            Assert.All(missing.Concat(slow), c => Assert.Equal(1, c["weight"].GetInt64()));
            Assert.All(slow, c => Assert.True(c["duration_ns"].GetInt64() >= SlowDelayMs * 1_000_000, $"/slow took {c["duration_ns"]} ns"));
            Assert.Equal(Fast, ordinary.Sum(c => c["weight"].GetInt64()));

            // R.E.D. counted the same requests, and each of its windows (the call log's windows too) kept at most its budget.
            var windows = await scenario.PointsAsync("http_red", $"WHERE pod = '{pod}' AND direction = '{direction}' AND route = '*'");
            Assert.Equal(Served, windows.Sum(w => w["requests"].GetInt64()));
            var budget = windows.Sum(w => (int)Math.Ceiling(PerSecond * w["window_s"].GetDouble()));
            Assert.True(ordinary.Count <= budget, $"{ordinary.Count} sampled points over {windows.Count} windows, budget {budget}");
            output.WriteLine($"{direction}: {calls.Count} points for {Served} requests ({ordinary.Count} sampled, weights {ordinary.Min(c => c["weight"].GetInt64())} to "
                + $"{ordinary.Max(c => c["weight"].GetInt64())}, over {windows.Count} one-second windows)");
            points += calls.Count;
        }

        Assert.True(weights.Count == 2 && weights.Values.All(w => w == Served), $"call-log weights {Text(weights)}, expected {Served} per side");
        Assert.Equal(2 * Served - points, red["call_log_sampled_out"]);
        Assert.Equal(0, red["call_log_budget_overflow"] + red["call_log_descriptor_failures"]);
    }

    [Fact]
    public async Task Errors_and_slow_calls_hammered_beyond_their_allowance_are_bounded_in_both_call_logs_their_weights_adding_up_to_nginxs_counts()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, Locations);
        await StartSlowServerAsync(scenario);
        var sampling = new { PerSecond, AtOncePerSecond, SlowThreshold = "00:00:00.100" };
        await scenario.StartAgentAsync(new Dictionary<string, object>
        {
            ["Red"] = new { CallLog = new { Sampling = sampling } },
            ["Otlp"] = new
            {
                Endpoint = receiver.Endpoint(OtlpTransport.Grpc), ExportInterval = "00:00:01",
                CallLog = new { Enabled = true, ExportInterval = "00:00:00.200", MaxQueueSize = 100_000, Sampling = sampling },
            },
        });

        var host = scenario.Server.IPv4;
        Assert.Equal($"500:{Failing}", PodPython.Run(scenario.Client, Burst, host, "/fail", $"{Failing}", "4").Trim());
        Assert.Equal($"200:{Slowed}", PodPython.Run(scenario.Client, Burst, host, "/slow", $"{Slowed}", $"{SlowConnections}").Trim());
        const int served = Failing + Slowed;
        Assert.Equal(served, (await nginx.ReadAccessLogAsync(served, TimeSpan.FromSeconds(10))).Count);

        await Poll.UntilAsync(
            async () => (await WeightsAsync(scenario)).Values.Sum() >= 2 * served && OtlpWeight(receiver.LogRecords()) >= 2 * served,
            $"both call logs' weights adding up to {served} per side", TimeSpan.FromSeconds(60));
        Assert.Equal(0, await scenario.StopAgentAsync());

        var red = await scenario.LastAgentMetricsAsync("Red");
        var otlp = await scenario.LastAgentMetricsAsync("Otlp");
        var points = new Dictionary<string, long>();
        foreach (var (pod, direction) in new[] { (scenario.ServerPod, "in"), (scenario.ClientPod, "out") })
        {
            var windows = await scenario.PointsAsync("http_red", $"WHERE pod = '{pod}' AND direction = '{direction}' AND route = '*'");
            Assert.Equal(served, windows.Sum(w => w["requests"].GetInt64()));
            var bound = Bound(windows.Select(w => w["window_s"].GetDouble()).ToList());
            var calls = (await scenario.PointsAsync("http_requests", $"WHERE pod = '{pod}' AND direction = '{direction}'"))
                .Select(c => (Path: c["path"].GetString()!, Weight: c["weight"].GetInt64())).ToList();
            var records = receiver.LogRecords().Where(r => r.Attribute("kubebpf.direction") == direction && r.Attribute("k8s.pod.name") == pod)
                .Select(r => (Path: r.Attribute("url.path")!, Weight: long.Parse(r.Attribute("kubebpf.sample.weight")!, CultureInfo.InvariantCulture))).ToList();
            foreach (var (sink, kept) in new[] { ("influxdb", calls), ("otlp", records) })
            {
                foreach (var (path, count) in new[] { ("/fail", Failing), ("/slow", Slowed) })
                {
                    var ofPath = kept.Where(k => k.Path == path).ToList();
                    Assert.Equal(count, ofPath.Sum(k => k.Weight));
                    Assert.True(ofPath.Count <= bound, $"{sink} {direction} {path}: {ofPath.Count} records for {count} calls, bound {bound}");
                    points[sink] = points.GetValueOrDefault(sink) + ofPath.Count;
                    output.WriteLine($"{sink} {direction} {path}: {ofPath.Count} records for {count} calls (bound {bound} over {windows.Count} windows), "
                        + $"{ofPath.Count(k => k.Weight == 1)} of weight 1, the heaviest {ofPath.Max(k => k.Weight)}");
                }

                Assert.Equal(kept.Count, kept.Count(k => k.Path is "/fail" or "/slow"));
            }
        }

        foreach (var (sink, counters) in new[] { ("influxdb", red), ("otlp", otlp) })
        {
            Assert.Equal(2 * served - points[sink], counters["call_log_errors_sampled_out"] + counters["call_log_slow_sampled_out"]);
            Assert.True(counters["call_log_errors_sampled_out"] > 0 && counters["call_log_slow_sampled_out"] > 0, $"{sink}: the bound sampled both classes");
            Assert.Equal(0, counters["call_log_sampled_out"] + counters["call_log_budget_overflow"]);
        }

        Assert.Equal((0, 0, 0), (otlp["log_records_dropped"], otlp["log_exports_failed"], red["call_log_descriptor_failures"]));
    }

    /// <summary>
    /// The most records one class of a budget may get over these windows (their lengths in seconds, as R.E.D. reports
    /// them): at once, the allowance of the window before (the first assumes 10 s), and the reservoir of each window.
    /// Windows are consecutive while the traffic lasts; the longest stands for any window before.
    /// </summary>
    private static long Bound(IReadOnlyList<double> windows) =>
        (long)Math.Ceiling(AtOncePerSecond * 10.0)
        + ((windows.Count - 1) * (long)Math.Ceiling(AtOncePerSecond * windows.Max()))
        + windows.Sum(w => (long)Math.Ceiling(AtOncePerSecond * w));

    private static long OtlpWeight(IEnumerable<OtlpLogRecord> records) =>
        records.Sum(r => long.Parse(r.Attribute("kubebpf.sample.weight")!, CultureInfo.InvariantCulture));

    private static async Task StartSlowServerAsync(AgentScenario scenario)
    {
        var slowServer = Path.Combine(scenario.WorkDirectory, "slow_server.py");
        await File.WriteAllTextAsync(slowServer, LatencyTests.SlowServer);
        scenario.Pods.Start(scenario.Server, "python3", slowServer, SlowPort.ToString(CultureInfo.InvariantCulture), SlowDelayMs.ToString(CultureInfo.InvariantCulture));
        PodSockets.WaitForListener(scenario.Server, SlowPort, TimeSpan.FromSeconds(10), () => "python3 slow_server.py did not start");
    }

    private static async Task<IReadOnlyDictionary<string, long>> WeightsAsync(AgentScenario scenario) =>
        (await scenario.QueryAsync("SELECT sum(\"weight\") AS \"weight\" FROM \"http_requests\" GROUP BY \"workload\", \"direction\""))
            .ToDictionary(r => $"{r.Tags["workload"]}/{r.Tags["direction"]}", r => r.Values["weight"].GetInt64());

    private static string Text(IReadOnlyDictionary<string, long> weights) => string.Join(", ", weights.Select(w => $"{w.Key}={w.Value}"));
}
