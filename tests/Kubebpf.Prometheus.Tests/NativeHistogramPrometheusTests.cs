using System.Globalization;
using Kubebpf.Prometheus.Metrics;
using Kubebpf.Prometheus.RemoteWrite;
using Kubebpf.Testing;
using Snappier;

namespace Kubebpf.Prometheus.Tests;

/// <summary>
/// A real Prometheus 2.42 with native histograms on, scraping the endpoint (it asks for protobuf then) and receiving
/// remote write with native histograms: counts, quantiles, and the first window of a new series in <c>increase()</c>.
/// </summary>
public sealed class NativeHistogramPrometheusTests(NativeHistogramPrometheusServer prometheus) : IClassFixture<NativeHistogramPrometheusServer>
{
    private const string RemoteWriteJob = "kubebpf";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Native_histograms_count_every_exchange_and_place_a_300_ms_one_by_scrape_and_by_remote_write()
    {
        await using var endpoint = ScrapeEndpointTests.Endpoint.Start(prometheus.RemoteWriteUrl, nativeHistograms: true);
        var pod = "native-" + Guid.NewGuid().ToString("N")[..8];
        var workload = Samples.Cart with { Pod = pod };
        endpoint.Exchanges.OnEvents([
            .. Enumerable.Repeat(Samples.Http("/a", durationNs: 1_500_000, workload: workload), 7),
            .. Enumerable.Repeat(Samples.Http("/slow", durationNs: 300_000_000, workload: workload), 3),
        ]);
        await prometheus.ScrapeAsync($"127.0.0.1:{endpoint.Port}");

        var slowBucket = NativeHistogram.IndexOf(0.3);
        foreach (var job in new[] { PrometheusServer.ScrapeJob, RemoteWriteJob })
        {
            var selector = $"pod=\"{pod}\",job=\"{job}\"";
            await prometheus.WaitForValueAsync($"sum(histogram_count(kubebpf_http_request_duration_seconds{{{selector}}}))", 10, Deadline);
            var median = await prometheus.QueryAsync($"histogram_quantile(0.5, kubebpf_http_request_duration_seconds{{{selector},route=\"/slow\"}})");
            var value = Assert.Single(median).Value;
            Assert.InRange(value, NativeHistogram.UpperBound(slowBucket - 1), NativeHistogram.UpperBound(slowBucket));
        }
    }

    [Fact]
    public async Task Increase_over_a_new_series_counts_its_first_window_by_scrape_and_by_remote_write()
    {
        await using var endpoint = ScrapeEndpointTests.Endpoint.Start(prometheus.RemoteWriteUrl);
        await prometheus.ScrapeAsync($"127.0.0.1:{endpoint.Port}");
        var pod = "first-" + Guid.NewGuid().ToString("N")[..8];
        endpoint.Exchanges.OnEvents([.. Enumerable.Repeat(Samples.Http("/a", workload: Samples.Cart with { Pod = pod }), 5)]);

        foreach (var job in new[] { PrometheusServer.ScrapeJob, RemoteWriteJob })
        {
            var series = $"kubebpf_http_requests_total{{pod=\"{pod}\",job=\"{job}\"}}";
            await prometheus.WaitForValueAsync(series, 5, Deadline);
            Assert.Equal(5, await IncreaseAtLastSampleAsync(prometheus, series));
        }
    }

    [Fact]
    public async Task Without_the_feature_prometheus_answers_a_native_histogram_with_500_so_remote_write_sends_none_by_default()
    {
        var plain = new PrometheusServer();
        await plain.InitializeAsync();
        try
        {
            var exchanges = Samples.ExchangeMetrics(Samples.Options(), new TestAgentMetrics(), TimeProvider.System);
            exchanges.OnEvents([Samples.Http("/a", workload: Samples.Cart with { Pod = "plain-" + Guid.NewGuid().ToString("N")[..8] })]);
            var client = new RemoteWriteClient(new HttpClient(), new RemoteWriteOptions { Url = plain.RemoteWriteUrl });
            var families = new List<FamilySample>();
            exchanges.Collect(families);
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

            var native = await client.SendAsync(Snappy.CompressToArray(WriteRequestEncoder.Encode(families, new WriteSettings(now, [], NativeHistograms: true)).Body), default);
            var classic = await client.SendAsync(Snappy.CompressToArray(WriteRequestEncoder.Encode(families, new WriteSettings(now + 1, [])).Body), default);

            Assert.Equal((SendOutcome.Retry, 500), (native.Outcome, native.Status));
            Assert.Equal(SendOutcome.Sent, classic.Outcome);
        }
        finally
        {
            await plain.DisposeAsync();
        }
    }

    /// <summary>
    /// <c>increase(series[10m])</c> evaluated at the series' last sample: no extrapolation past it, and none before a
    /// first sample of zero, so the answer is exactly what the series counted.
    /// </summary>
    internal static async Task<double> IncreaseAtLastSampleAsync(PrometheusServer prometheus, string series)
    {
        var last = Assert.Single(await prometheus.QueryAsync($"timestamp({series})")).Value;
        var at = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(last * 1000));
        var increase = await prometheus.QueryAsync($"increase({series}[10m])", at);
        Assert.True(increase.Count == 1, $"increase({series}) at {at.ToString("O", CultureInfo.InvariantCulture)}: {PrometheusServer.Text(increase)}");
        return increase[0].Value;
    }
}
