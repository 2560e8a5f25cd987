using System.Globalization;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// The published agent against nginx between two pods and a real Prometheus 2.42 with native histograms on, scraping
/// the agent (protobuf, which it asks for first with the feature) and receiving its remote write with native
/// histograms: a histogram's count equals the requests served, a 300 ms answer's median lands in its schema-3
/// bucket, and <c>increase()</c> over the series the traffic created equals the requests (their first window included).
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class PrometheusNativeHistogramTests(InfluxDbServer influx, NativeHistogramPrometheusServer prometheus, ITestOutputHelper output)
    : IClassFixture<NativeHistogramPrometheusServer>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Native_histogram_counts_the_quantile_of_a_300_ms_answer_and_increase_over_new_series_match_the_access_log()
    {
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
        await PrometheusSinkTests.StartSlowServerAsync(scenario);
        var port = LoopbackPorts.Free();
        await scenario.StartAgentAsync(new Dictionary<string, object>
        {
            ["Prometheus"] = new
            {
                ListenAddress = $"127.0.0.1:{port}",
                RemoteWrite = new { Url = prometheus.RemoteWriteUrl, SendInterval = "00:00:01", NativeHistograms = true },
            },
        });
        await prometheus.ScrapeAsync($"127.0.0.1:{port}");

        PrometheusSinkTests.RunTrafficWithSlowRequests(scenario);
        var served = await nginx.ReadAccessLogAsync(TrafficPlan.All.Count, TimeSpan.FromSeconds(10));
        var expected = PrometheusSinkTests.ByStatusClass(served.Select(e => e.Status).Concat(Enumerable.Repeat(200, PrometheusSinkTests.SlowRequests)));
        var total = expected.Values.Sum();
        await scenario.WaitForCallLogAsync(2 * (long)total, Deadline);
        var slow = (await scenario.CallLogAsync()).Where(c => c.Path == "/slow").ToList();

        foreach (var job in new[] { PrometheusServer.ScrapeJob, PrometheusSinkTests.RemoteWriteJob })
        {
            foreach (var (pod, direction) in new[] { (scenario.ServerPod, "in"), (scenario.ClientPod, "out") })
            {
                var selector = $"job=\"{job}\",pod=\"{pod}\",direction=\"{direction}\"";
                var requests = $"kubebpf_http_requests_total{{{selector}}}";
                await prometheus.WaitForValuesAsync($"sum by (status_class) ({requests})", "status_class", expected, Deadline);
                await prometheus.WaitForValueAsync($"sum(histogram_count(kubebpf_http_request_duration_seconds{{{selector}}}))", total, Deadline);

                // Schema 3: bucket i holds (2^((i-1)/8), 2^(i/8)] seconds; the median of the three lies in the buckets of their durations.
                var buckets = slow.Where(c => c.Pod == pod && c.Direction == direction).Select(c => (int)Math.Ceiling(8 * Math.Log2(c.DurationNs / 1e9))).ToList();
                Assert.Equal(PrometheusSinkTests.SlowRequests, buckets.Count);
                var median = Assert.Single(await prometheus.QueryAsync($"histogram_quantile(0.5, kubebpf_http_request_duration_seconds{{{selector},route=\"/slow\"}})")).Value;
                var (lower, upper) = (Math.Pow(2, (buckets.Min() - 1) / 8.0), Math.Pow(2, buckets.Max() / 8.0));
                output.WriteLine($"{job} {direction}: median of /slow {median} s, buckets of its durations ({lower}, {upper}]");
                Assert.InRange(median, lower * (1 - 1e-9), upper * (1 + 1e-9));
                Assert.InRange(median, 0.25, 0.4);

                // Every series was created by this traffic: at the last sample, increase() over the range is the whole count.
                var last = Assert.Single(await prometheus.QueryAsync($"max(timestamp({requests}))")).Value;
                var at = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(last * 1000));
                var increase = await prometheus.QueryAsync($"sum by (status_class) (increase({requests}[10m]))", at);
                Assert.True(
                    increase.Count == expected.Count && increase.All(s => s.Value == expected[s.Labels["status_class"]]),
                    $"{job} {direction}: increase at {at.ToString("O", CultureInfo.InvariantCulture)} was {PrometheusServer.Text(increase)}");
            }
        }
    }
}
