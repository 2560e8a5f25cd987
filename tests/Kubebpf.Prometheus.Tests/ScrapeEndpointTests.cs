using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Kubebpf.Prometheus.Exposition;
using Kubebpf.Prometheus.Metrics;
using Kubebpf.Prometheus.Scrape;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Prometheus.Tests;

/// <summary>The /metrics endpoint over real HTTP, and a real Prometheus scraping it and receiving remote write.</summary>
public sealed class ScrapeEndpointTests(PrometheusServer prometheus) : IClassFixture<PrometheusServer>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Metrics_answers_text_or_openmetrics_by_accept_header_and_other_paths_404()
    {
        await using var endpoint = Endpoint.Start();
        endpoint.Exchanges.OnEvents([Samples.Http("/a"), Samples.Http("/a", status: 404)]);
        using var http = new HttpClient();

        using var text = await http.GetAsync(new Uri($"{endpoint.Url}/metrics"));
        Assert.Equal(HttpStatusCode.OK, text.StatusCode);
        Assert.Equal(TextExposition.TextContentType, text.Content.Headers.ContentType!.ToString().Replace(" ", "", StringComparison.Ordinal).Replace(";", "; ", StringComparison.Ordinal));
        var body = await text.Content.ReadAsStringAsync();
        Assert.Contains("kubebpf_http_requests_total{", body, StringComparison.Ordinal);
        // The series were created after the (absent) previous scrape: this reader sees them at zero first.
        Assert.Contains("status_class=\"4xx\"} 0.0\n", body, StringComparison.Ordinal);
        Assert.DoesNotContain("# EOF", body, StringComparison.Ordinal);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{endpoint.Url}/metrics"));
        request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/openmetrics-text;version=1.0.0"));
        using var openMetrics = await http.SendAsync(request);
        Assert.Equal("application/openmetrics-text", openMetrics.Content.Headers.ContentType!.MediaType);
        var second = await openMetrics.Content.ReadAsStringAsync();
        Assert.Contains("status_class=\"4xx\"} 1.0\n", second, StringComparison.Ordinal);
        Assert.EndsWith("# EOF\n", second, StringComparison.Ordinal);

        using var other = await http.GetAsync(new Uri($"{endpoint.Url}/other"));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(2, endpoint.Metrics.Value("scrapes"));
    }

    [Fact]
    public async Task A_new_counter_or_histogram_is_scraped_at_zero_once_then_with_its_counts_and_a_gauge_never_is()
    {
        var (gauges, edges, metrics, time) = PointGaugesTests.CreateWithEdges();
        var exchanges = Samples.ExchangeMetrics(Samples.Options(), metrics, time);
        var scrape = new ScrapeEndpoint(
            Samples.Wrap(Samples.Options()), new MetricCollector([exchanges, edges, gauges]), metrics, time, NullLogger<ScrapeEndpoint>.Instance);
        exchanges.OnEvents([Samples.Http("/a"), Samples.Http("/a"), Samples.Http("/a")]);
        await gauges.WriteAsync([ServiceMapCountersTests.Calls(requests: 3, errors: 0, timeouts: 0, sumMs: 3, p99: 2, buckets: [0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])], CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(1));

        var first = Render(scrape);
        Assert.Equal(new double[] { 0, 0, 0, 0, 2 }, new[] { Value(first, "kubebpf_http_requests_total", "/a"), Value(first, "kubebpf_http_request_duration_seconds_count", "/a"),
            Value(first, "kubebpf_http_request_duration_seconds_bucket", "le=\"+Inf\""), Value(first, "kubebpf_service_map_calls_requests_total"),
            Value(first, "kubebpf_service_map_calls_latency_p99_ms") });

        time.Advance(TimeSpan.FromSeconds(1));
        exchanges.OnEvents([Samples.Http("/b")]);
        var second = Render(scrape);
        Assert.Equal(new double[] { 3, 3, 0, 3 }, new[] { Value(second, "kubebpf_http_requests_total", "/a"), Value(second, "kubebpf_http_request_duration_seconds_count", "/a"),
            Value(second, "kubebpf_http_requests_total", "/b"), Value(second, "kubebpf_service_map_calls_requests_total") });

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, Value(Render(scrape), "kubebpf_http_requests_total", "/b"));
    }

    [Fact]
    public async Task A_head_request_does_not_use_up_a_new_series_zero()
    {
        await using var endpoint = Endpoint.Start();
        endpoint.Exchanges.OnEvents([Samples.Http("/a")]);
        using var http = new HttpClient();

        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri($"{endpoint.Url}/metrics")));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.True(head.Content.Headers.ContentLength > 0);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        var first = await http.GetStringAsync(new Uri($"{endpoint.Url}/metrics"));
        Assert.Equal(0, Value(first, "kubebpf_http_requests_total", "/a"));
        var second = await http.GetStringAsync(new Uri($"{endpoint.Url}/metrics"));
        Assert.Equal(1, Value(second, "kubebpf_http_requests_total", "/a"));
    }

    [Fact]
    public async Task A_real_prometheus_reads_the_same_totals_by_scrape_and_by_remote_write()
    {
        await using var endpoint = Endpoint.Start(remoteWriteUrl: prometheus.RemoteWriteUrl);
        var pod = "cart-" + Guid.NewGuid().ToString("N")[..8];
        var workload = Samples.Cart with { Pod = pod };
        endpoint.Exchanges.OnEvents([
            .. Enumerable.Repeat(Samples.Http("/a", workload: workload), 7),
            Samples.Http("/slow", durationNs: 300_000_000, workload: workload),
            Samples.Http("/a", status: 500, workload: workload),
        ]);
        await prometheus.ScrapeAsync($"127.0.0.1:{endpoint.Port}");

        foreach (var job in new[] { PrometheusServer.ScrapeJob, "kubebpf" })
        {
            var selector = $"{{pod=\"{pod}\",job=\"{job}\"}}";
            await prometheus.WaitForValueAsync($"sum(kubebpf_http_requests_total{selector})", 9, Deadline);
            await prometheus.WaitForValueAsync($"sum(kubebpf_http_requests_total{{pod=\"{pod}\",job=\"{job}\",status_class=\"5xx\"}})", 1, Deadline);
            await prometheus.WaitForValueAsync($"sum(kubebpf_http_request_duration_seconds_count{selector})", 9, Deadline);
            await prometheus.WaitForValueAsync($"sum(kubebpf_http_request_duration_seconds_bucket{{pod=\"{pod}\",job=\"{job}\",le=\"0.25\"}})", 8, Deadline);
            await prometheus.WaitForValueAsync($"sum(kubebpf_http_request_duration_seconds_bucket{{pod=\"{pod}\",job=\"{job}\",le=\"0.5\"}})", 9, Deadline);
        }
    }

    private static string Render(ScrapeEndpoint scrape) => Encoding.UTF8.GetString(scrape.Render(ExpositionFormat.Text));

    /// <summary>The value of the one sample of <paramref name="metric"/> whose line contains <paramref name="containing"/>.</summary>
    private static double Value(string text, string metric, string containing = "")
    {
        var line = Assert.Single(text.Split('\n'), l => l.StartsWith(metric + "{", StringComparison.Ordinal) && l.Contains(containing, StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A running endpoint (and optionally remote writer) on a free loopback port over real exchange metrics.</summary>
    internal sealed class Endpoint : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _loops = [];

        private Endpoint(string? remoteWriteUrl, bool nativeHistograms)
        {
            Port = LoopbackPorts.Free();
            var options = Samples.Options();
            options.ListenAddress = $"127.0.0.1:{Port}";
            options.RemoteWrite.Url = remoteWriteUrl ?? "";
            options.RemoteWrite.SendInterval = TimeSpan.FromMilliseconds(500);
            options.RemoteWrite.NativeHistograms = nativeHistograms;
            Exchanges = Samples.ExchangeMetrics(options, Metrics, TimeProvider.System);
            var collector = new MetricCollector([Exchanges]);
            var scrape = new ScrapeEndpoint(Samples.Wrap(options), collector, Metrics, TimeProvider.System, NullLogger<ScrapeEndpoint>.Instance);
            _loops.Add(Task.Run(() => scrape.RunAsync(_stop.Token)));
            if (remoteWriteUrl is not null)
            {
                var writer = new RemoteWrite.RemoteWriter(
                    Samples.Wrap(options), collector, new RemoteWrite.RemoteWriteClient(new HttpClient(), options.RemoteWrite), Metrics,
                    TimeProvider.System, NullLogger<RemoteWrite.RemoteWriter>.Instance);
                _loops.Add(Task.Run(() => writer.RunAsync(_stop.Token)));
            }
        }

        public int Port { get; }

        public string Url => $"http://127.0.0.1:{Port}";

        public TestAgentMetrics Metrics { get; } = new();

        public ExchangeMetrics Exchanges { get; }

        public static Endpoint Start(string? remoteWriteUrl = null, bool nativeHistograms = false)
        {
            var endpoint = new Endpoint(remoteWriteUrl, nativeHistograms);
            Poll.Until(() => Accepts(endpoint.Port), $"the scrape endpoint listening on {endpoint.Port}");
            return endpoint;
        }

        private static bool Accepts(int port)
        {
            using var client = new System.Net.Sockets.TcpClient();
            try
            {
                client.Connect(IPAddress.Loopback, port);
                return true;
            }
            catch (System.Net.Sockets.SocketException)
            {
                return false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_loops);
            _stop.Dispose();
        }
    }
}
