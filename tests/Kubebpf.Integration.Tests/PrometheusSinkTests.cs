using System.Diagnostics;
using System.Globalization;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// The Prometheus sink in the published agent, against nginx between two pods and a real Prometheus that scrapes the
/// agent (job <see cref="PrometheusServer.ScrapeJob"/>) and receives its remote write (job <c>kubebpf</c>): the totals
/// per pod, direction and status class equal nginx's access log both ways, the histograms count every request and put a
/// 300 ms answer in its bucket, and a receiver down for two minutes gets the right totals afterwards.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class PrometheusSinkTests(InfluxDbServer influx, PrometheusServer prometheus, ITestOutputHelper output) : IClassFixture<PrometheusServer>
{
    /// <summary>Requests to the server's 300 ms endpoint in <see cref="RunTrafficWithSlowRequests"/>.</summary>
    internal const int SlowRequests = 3;

    /// <summary>The <c>job</c> of remote-written series.</summary>
    internal const string RemoteWriteJob = "kubebpf";

    private const int SlowPort = 8080;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Outage = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Totals_by_pod_direction_and_status_class_equal_the_access_log_by_scrape_and_by_remote_write()
    {
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
        await StartSlowServerAsync(scenario);
        var port = LoopbackPorts.Free();
        await scenario.StartAgentAsync(Plugins(new
        {
            ListenAddress = $"127.0.0.1:{port}",
            RemoteWrite = new { Url = prometheus.RemoteWriteUrl, SendInterval = "00:00:01" },
        }));
        await prometheus.ScrapeAsync($"127.0.0.1:{port}");

        RunTrafficWithSlowRequests(scenario);
        var served = await nginx.ReadAccessLogAsync(TrafficPlan.All.Count, TimeSpan.FromSeconds(10));
        Assert.Equal(TrafficPlan.Sorted(TrafficPlan.All), TrafficPlan.Sorted(served.Select(e => new PlannedRequest(e.Method, e.Uri, e.Status))));
        var expected = ByStatusClass(served.Select(e => e.Status).Concat(Enumerable.Repeat(200, SlowRequests)));
        var total = expected.Values.Sum();
        await scenario.WaitForCallLogAsync(2 * (long)total, Deadline);
        var slow = (await scenario.CallLogAsync()).Where(c => c.Path == "/slow").ToList();

        foreach (var job in new[] { PrometheusServer.ScrapeJob, RemoteWriteJob })
        {
            foreach (var (pod, direction) in new[] { (scenario.ServerPod, "in"), (scenario.ClientPod, "out") })
            {
                var selector = $"job=\"{job}\",pod=\"{pod}\",direction=\"{direction}\"";
                await prometheus.WaitForValuesAsync($"sum by (status_class) (kubebpf_http_requests_total{{{selector}}})", "status_class", expected, Deadline);
                await prometheus.WaitForValueAsync($"sum(kubebpf_http_request_duration_seconds_count{{{selector}}})", total, Deadline);

                // The bucket counts follow from the exact durations in the call log; none can be under the server's delay.
                var durations = slow.Where(c => c.Pod == pod && c.Direction == direction).Select(c => c.DurationNs).ToList();
                Assert.Equal(SlowRequests, durations.Count);
                Assert.All(durations, d => Assert.True(d > 250_000_000, $"a 300 ms answer measured {d} ns"));
                foreach (var le in new[] { 0.25, 0.5, 1.0 })
                {
                    await prometheus.WaitForValueAsync(
                        $"sum(kubebpf_http_request_duration_seconds_bucket{{{selector},route=\"/slow\",le=\"{le.ToString("0.0#", CultureInfo.InvariantCulture)}\"}})",
                        durations.Count(d => d <= (long)(le * 1e9)),
                        Deadline);
                }
            }
        }

        await PromQlDashboards.AssertAnswerAsync(prometheus, "red-overview.json");
        await PromQlDashboards.AssertAnswerAsync(prometheus, "agent-health.json");
    }

    [Fact]
    public async Task After_the_receiver_was_down_for_two_minutes_the_totals_are_right_and_what_overflowed_the_buffer_is_counted()
    {
        var receiver = new PrometheusServer();
        await receiver.InitializeAsync();
        try
        {
            await using var scenario = AgentScenario.Create(influx);
            using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
            await scenario.StartAgentAsync(Plugins(new
            {
                ListenAddress = "",
                // 256 KiB holds part of two minutes of one request per second: the rest overflows.
                RemoteWrite = new { Url = receiver.RemoteWriteUrl, SendInterval = "00:00:01", MaxRetryDelay = "00:00:02", MaxBufferBytes = 256 * 1024 },
            }));
            var selector = $"job=\"{RemoteWriteJob}\",pod=\"{scenario.ServerPod}\",direction=\"in\"";
            var query = $"sum by (status_class) (kubebpf_http_requests_total{{{selector}}})";

            TrafficPlan.Run(scenario.Client, scenario.Server.IPv4, scenario.WorkDirectory);
            var served = await nginx.ReadAccessLogAsync(TrafficPlan.All.Count, TimeSpan.FromSeconds(10));
            await receiver.WaitForValuesAsync(query, "status_class", ByStatusClass(served.Select(e => e.Status)), Deadline);

            receiver.Stop();
            var down = Stopwatch.StartNew();
            var stoppedAt = DateTimeOffset.UtcNow;
            TrafficPlan.Run(scenario.Client, scenario.Server.IPv4, scenario.WorkDirectory);
            served = await nginx.ReadAccessLogAsync(2 * TrafficPlan.All.Count, TimeSpan.FromSeconds(10));
            Assert.Equal(2 * TrafficPlan.All.Count, served.Count);
            await WaitForAgentMetricAsync(scenario, "remote_write_dropped", value => value > 0, Outage + Deadline);
            if (down.Elapsed < Outage)
            {
                await Task.Delay(Outage - down.Elapsed); // the outage itself lasts two minutes; nothing is asserted after a sleep
            }

            // What the buffer holds as the receiver comes back (one request per second keeps displacing the oldest).
            var held = await WaitForAgentMetricAsync(scenario, "remote_write_buffered_requests", value => value >= 2, Deadline);
            await receiver.StartAsync();
            var restartedAt = DateTimeOffset.UtcNow;
            await receiver.WaitForValuesAsync(query, "status_class", ByStatusClass(served.Select(e => e.Status)), Deadline);

            // Once the queue is drained (the totals are right with its first request already), the held requests have
            // arrived, each stamped with the time it was taken during the outage.
            var counters = await WaitForAgentMetricAsync(scenario, "remote_write_buffered_requests", value => value == 0, Deadline);
            var during = await receiver.QueryAsync(
                $"max(count_over_time(kubebpf_http_requests_total{{{selector}}}[{(int)(restartedAt - stoppedAt).TotalSeconds}s]))", restartedAt);
            var state = $"held before the restart: {Text(held)}; after: {Text(counters)}; samples from the outage: {PrometheusServer.Text(during)}";
            output.WriteLine(state);
            // Held at the read, less what newer requests displaced until the receiver was back, less one taken meanwhile.
            var stillHeld = held["remote_write_buffered_requests"] - (counters["remote_write_dropped"] - held["remote_write_dropped"]) - 1;
            Assert.True(during.Count == 1 && during[0].Value >= stillHeld && stillHeld >= 2, state);
            Assert.True(counters["remote_write_dropped"] > 0 && counters["remote_write_retries"] > 0, state);
            Assert.True(counters["remote_write_rejected"] == 0, state);
        }
        finally
        {
            await receiver.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_final_remote_write_at_SIGTERM_carries_the_last_window()
    {
        const int Requests = 50;
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
        var run = new Dictionary<string, string> { ["scenario"] = scenario.Database };
        await scenario.StartAgentAsync(new Dictionary<string, object>
        {
            ["ServiceMap"] = new { NodeName = "e2e-node", SnapshotFile = "" },
            // No send before the stop: whatever Prometheus holds afterwards came with the agent's last request.
            ["Prometheus"] = new { ListenAddress = "", RemoteWrite = new { Url = prometheus.RemoteWriteUrl, SendInterval = "01:00:00", ExternalLabels = run } },
        });

        // SIGTERM as soon as the client has its answers: the window holding them is flushed by the stop itself.
        NetworkPods.Exec(scenario.Client, $"curl -sf -o /dev/null 'http://{scenario.Server.IPv4}/ok?i=[1-{Requests}]'");
        Assert.Equal(0, await scenario.StopAgentAsync());

        var selector = $"scenario=\"{scenario.Database}\"";
        await prometheus.WaitForValueAsync($"sum(kubebpf_http_requests_total{{{selector},pod=\"{scenario.ServerPod}\",direction=\"in\"}})", Requests, Deadline);
        await prometheus.WaitForValueAsync($"sum(kubebpf_http_requests_total{{{selector},pod=\"{scenario.ClientPod}\",direction=\"out\"}})", Requests, Deadline);
        // The service map's last window is written by the final flush, after the probes stopped.
        await prometheus.WaitForValueAsync($"sum(kubebpf_service_map_calls_requests_total{{{selector}}})", Requests, Deadline);
        var sent = await prometheus.QueryAsync($"count(count by (__name__) ({{{selector}}}))");
        output.WriteLine($"after SIGTERM: {Requests} requests each way and on the service map's edge; {PrometheusServer.Text(sent)} metric names from the one request");
    }

    private static string Text(IReadOnlyDictionary<string, long> counters) =>
        string.Join(' ', counters.Where(c => c.Key.StartsWith("remote_write", StringComparison.Ordinal)).Select(c => $"{c.Key}={c.Value}"));

    private static Dictionary<string, object> Plugins(object prometheusSettings) => new() { ["Prometheus"] = prometheusSettings };

    /// <summary>Starts the server pod's endpoint that answers <c>/slow</c> after 300 ms.</summary>
    internal static async Task StartSlowServerAsync(AgentScenario scenario)
    {
        var script = Path.Combine(scenario.WorkDirectory, "slow_server.py");
        await File.WriteAllTextAsync(script, LatencyTests.SlowServer);
        scenario.Pods.Start(scenario.Server, "python3", script, SlowPort.ToString(CultureInfo.InvariantCulture), "300");
        PodSockets.WaitForListener(scenario.Server, SlowPort, TimeSpan.FromSeconds(10), () => "python3 slow_server.py did not start");
    }

    /// <summary>The traffic plan against nginx, then <see cref="SlowRequests"/> requests to the slow endpoint.</summary>
    internal static void RunTrafficWithSlowRequests(AgentScenario scenario)
    {
        TrafficPlan.Run(scenario.Client, scenario.Server.IPv4, scenario.WorkDirectory);
        NetworkPods.Exec(scenario.Client, $"for i in $(seq {SlowRequests}); do curl -sf -o /dev/null http://{scenario.Server.IPv4}:{SlowPort}/slow; done");
    }

    /// <summary>Request counts by status class (<c>2xx</c>, ...).</summary>
    internal static Dictionary<string, double> ByStatusClass(IEnumerable<int> statuses) =>
        statuses.GroupBy(s => $"{s / 100}xx").ToDictionary(g => g.Key, g => (double)g.Count());

    /// <summary>Polls the agent's own <c>kubebpf_agent</c> points (component Prometheus, in InfluxDB) until a counter satisfies <paramref name="done"/>.</summary>
    private static async Task<IReadOnlyDictionary<string, long>> WaitForAgentMetricAsync(AgentScenario scenario, string name, Func<long, bool> done, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        IReadOnlyDictionary<string, long> last = new Dictionary<string, long>();
        while (deadline.Elapsed < timeout)
        {
            var points = await scenario.PointsAsync("kubebpf_agent", "WHERE component = 'Prometheus'");
            if (points.Count > 0)
            {
                last = points[^1].Where(p => p.Value.ValueKind == System.Text.Json.JsonValueKind.Number && p.Key != "time")
                    .ToDictionary(p => p.Key, p => p.Value.GetInt64());
                if (last.TryGetValue(name, out var value) && done(value))
                {
                    return last;
                }
            }

            await Task.Delay(500);
        }

        Assert.Fail($"The agent's {name} did not reach the expected value within {timeout}; last: " +
            string.Join(' ', last.Select(c => $"{c.Key}={c.Value}")));
        return last;
    }
}
