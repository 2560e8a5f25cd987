using Kubebpf.Testing;
using Kubebpf.Testing.Otlp;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// The published agent with the OTLP sink, real traffic between two pods through nginx, and a receiver that decodes
/// the real OTLP messages: the request counters and histogram counts per pod, method and status equal nginx's access
/// log, and the call log's records equal the exchanges, over both transports; a receiver that is down for a while
/// or throttles costs nothing of the cumulative totals, and what it cost the call log is counted.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class OtlpTests(InfluxDbServer influx)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(OtlpTransport.Grpc)]
    [InlineData(OtlpTransport.HttpProtobuf)]
    public async Task Metric_and_log_records_equal_the_access_log_per_pod_method_and_status(OtlpTransport transport)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
        await scenario.StartAgentAsync(OtlpPlugin(receiver, transport));

        TrafficPlan.Run(scenario.Client, scenario.Server.IPv4, scenario.WorkDirectory);
        var served = await nginx.ReadAccessLogAsync(TrafficPlan.All.Count, TimeSpan.FromSeconds(10));
        var expected = Sorted(served.Select(e => $"{e.Method} {e.Status}"));
        var count = served.Count;
        Poll.Until(
            () => Total(receiver, "kubebpf.http.server.requests") == count && Total(receiver, "kubebpf.http.client.requests") == count
                && receiver.LogRecords().Count == 2 * count,
            $"{count} requests per side and {2 * count} log records", () => Describe(receiver), Timeout);
        Assert.Equal(0, await scenario.StopAgentAsync());

        var latest = receiver.LatestDataPoints();
        foreach (var (metric, pod) in new[]
        {
            ("kubebpf.http.server.requests", scenario.ServerPod), ("kubebpf.http.client.requests", scenario.ClientPod),
        })
        {
            Assert.Equal(expected, Sorted(latest.Where(p => p.Metric == metric).SelectMany(p =>
            {
                Assert.Equal((pod, AgentScenario.Namespace), (p.Attribute("k8s.pod.name"), p.Attribute("k8s.namespace.name")));
                return Enumerable.Repeat($"{p.Attribute("http.request.method")} {p.Attribute("http.response.status_code")}", (int)p.Value);
            })));
        }

        foreach (var (metric, pod) in new[] { ("http.server.request.duration", scenario.ServerPod), ("http.client.request.duration", scenario.ClientPod) })
        {
            Assert.Equal(expected, Sorted(latest.Where(p => p.Metric == metric && p.Attribute("k8s.pod.name") == pod)
                .SelectMany(p => Enumerable.Repeat($"{p.Attribute("http.request.method")} {p.Attribute("http.response.status_code")}", (int)p.Count))));
        }

        Assert.Equal(AgentScenario.ServerWorkload, Assert.Single(latest.Where(p => p.Metric == "kubebpf.http.server.requests").Select(p => p.Attribute("k8s.deployment.name")).Distinct()));
        Assert.Equal(AgentScenario.ServerService, Assert.Single(latest.Where(p => p.Metric == "kubebpf.http.client.requests").Select(p => p.Attribute("server.address")).Distinct()));

        var records = receiver.LogRecords();
        var planned = Sorted(served.Select(e => $"{e.Method} {e.Uri} {e.Status}"));
        foreach (var (direction, pod) in new[] { ("in", scenario.ServerPod), ("out", scenario.ClientPod) })
        {
            var side = records.Where(r => r.Attribute("kubebpf.direction") == direction).ToList();
            Assert.Equal(planned, Sorted(side.Select(r => $"{r.Attribute("http.request.method")} {r.Attribute("url.path")} {r.Attribute("http.response.status_code")}")));
            Assert.All(side, r => Assert.Equal(
                (pod, scenario.Server.IPv4, "80", "tcp"), (r.Attribute("k8s.pod.name"), r.Attribute("server.address"), r.Attribute("server.port"), r.Attribute("network.transport"))));
        }

        Assert.All(records, r => Assert.Equal("kubebpf-agent", r.Resource["service.name"]));
        Assert.All(receiver.DataPoints(), p => Assert.Equal(transport, p.Transport));

        // The agent's self-metrics came along; the capture's last count is every exchange, and the sink lost nothing.
        var capture = latest.Single(p => p.Metric == "kubebpf.agent.exchanges" && p.Attribute("kubebpf.component") == "Capture");
        Assert.Equal(2 * count, capture.Value);
        var otlp = await scenario.LastAgentMetricsAsync("Otlp");
        Assert.Equal((0, 0, 0, 0), (otlp["metric_exports_failed"], otlp["log_exports_failed"], otlp["log_records_dropped"], otlp["export_attempts_failed"]));
    }

    [Fact]
    public async Task A_receiver_down_for_a_while_then_throttling_loses_no_metric_and_counts_every_lost_record()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
        await scenario.StartAgentAsync(OtlpPlugin(receiver, OtlpTransport.Grpc, exportTimeout: "00:00:02"));

        await receiver.StopAsync();
        TrafficPlan.Run(scenario.Client, scenario.Server.IPv4, scenario.WorkDirectory);
        var served = await nginx.ReadAccessLogAsync(TrafficPlan.All.Count, TimeSpan.FromSeconds(10));
        var count = served.Count;
        await Poll.UntilAsync(
            async () => await LostRecordsAsync(scenario) == 2 * count,
            $"all {2 * count} records counted lost while the receiver is down", Timeout);

        receiver.Answer(new ReceiverAnswer(429, RetryAfterSeconds: 1), times: 2);
        await receiver.StartAgainAsync();
        Poll.Until(
            () => Total(receiver, "kubebpf.http.server.requests") == count && Total(receiver, "kubebpf.http.client.requests") == count,
            $"{count} requests per side once the receiver is back", () => Describe(receiver), Timeout);
        Assert.Equal(0, await scenario.StopAgentAsync());

        Assert.Empty(receiver.LogRecords());
        var otlp = await scenario.LastAgentMetricsAsync("Otlp");
        Assert.True(otlp["metric_exports_failed"] > 0, "the exports while the receiver was down are counted");
        Assert.True(otlp["export_retries"] >= 2, $"the throttled exports were retried: {otlp["export_retries"]}");
        Assert.Equal(2, receiver.Refused);
    }

    private static Dictionary<string, object> OtlpPlugin(OtlpReceiver receiver, OtlpTransport transport, string exportTimeout = "00:00:05") => new()
    {
        ["Otlp"] = new
        {
            Endpoint = receiver.Endpoint(transport),
            Protocol = transport == OtlpTransport.Grpc ? "grpc" : "http/protobuf",
            ExportInterval = "00:00:00.500",
            ExportTimeout = exportTimeout,
            // Unsampled: each record is checked against the access log (CallLogSamplingTests covers the policy).
            CallLog = new { Enabled = true, ExportInterval = "00:00:00.200", Sampling = new { Enabled = false } },
        },
    };

    // No rows while the agent's first write has not created the database yet.
    private static async Task<long> LostRecordsAsync(AgentScenario scenario)
    {
        var rows = await scenario.QueryAsync("SELECT * FROM kubebpf_agent WHERE component = 'Otlp'");
        return rows.Count == 0 ? 0 : rows[^1].Values["log_records_failed"].GetInt64() + rows[^1].Values["log_records_dropped"].GetInt64();
    }

    private static double Total(OtlpReceiver receiver, string metric) => receiver.LatestDataPoints().Where(p => p.Metric == metric).Sum(p => p.Value);

    private static string[] Sorted(IEnumerable<string> values) => [.. values.Order(StringComparer.Ordinal)];

    private static string Describe(OtlpReceiver receiver) =>
        $"{receiver.LogRecords().Count} log records; " + string.Join("; ", receiver.LatestDataPoints()
            .Where(p => p.Metric.StartsWith("kubebpf.http", StringComparison.Ordinal)).Select(p => $"{p.Metric}{{{p.SeriesKey}}}={p.Value}"));
}
