using System.Text;
using Kubebpf.Prometheus.Exposition;
using Kubebpf.Prometheus.Metrics;

namespace Kubebpf.Prometheus.Tests;

public sealed class ExpositionTests
{
    private static readonly List<FamilySample> Families =
    [
        new(new MetricFamily("kubebpf_http_requests", "Completed requests.", MetricKind.Counter),
            [new([new("pod", "cart-1"), new("route", "/a\"b\\c\nd")], 3)]),
        new(new MetricFamily("kubebpf_agent_series", "Series held.", MetricKind.Gauge), [new([], 42)]),
        new(new MetricFamily("kubebpf_http_request_duration_seconds", "Duration.", MetricKind.Histogram),
            [new([new("pod", "cart-1")], 3, [.. Enumerable.Range(0, LatencyBuckets.Count).Select(i => i < 11 ? 0L : 3L)], 0.9)]),
    ];

    [Fact]
    public void Text_format_names_counters_with_total_and_escapes_label_values()
    {
        var text = Write(openMetrics: false);

        Assert.StartsWith("""
            # HELP kubebpf_http_requests_total Completed requests.
            # TYPE kubebpf_http_requests_total counter
            kubebpf_http_requests_total{pod="cart-1",route="/a\"b\\c\nd"} 3.0
            # HELP kubebpf_agent_series Series held.
            # TYPE kubebpf_agent_series gauge
            kubebpf_agent_series 42.0
            # HELP kubebpf_http_request_duration_seconds Duration.
            # TYPE kubebpf_http_request_duration_seconds histogram
            kubebpf_http_request_duration_seconds_bucket{pod="cart-1",le="0.0001"} 0.0

            """.ReplaceLineEndings("\n"), text, StringComparison.Ordinal);
        Assert.Contains("kubebpf_http_request_duration_seconds_bucket{pod=\"cart-1\",le=\"0.25\"} 0.0\n", text, StringComparison.Ordinal);
        Assert.Contains("kubebpf_http_request_duration_seconds_bucket{pod=\"cart-1\",le=\"0.5\"} 3.0\n", text, StringComparison.Ordinal);
        Assert.Contains("kubebpf_http_request_duration_seconds_bucket{pod=\"cart-1\",le=\"+Inf\"} 3.0\n", text, StringComparison.Ordinal);
        Assert.EndsWith("""
            kubebpf_http_request_duration_seconds_sum{pod="cart-1"} 0.9
            kubebpf_http_request_duration_seconds_count{pod="cart-1"} 3.0

            """.ReplaceLineEndings("\n"), text, StringComparison.Ordinal);
        Assert.DoesNotContain("# EOF", text, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenMetrics_names_the_counter_family_without_total_and_ends_with_eof()
    {
        var text = Write(openMetrics: true);

        Assert.StartsWith("""
            # HELP kubebpf_http_requests Completed requests.
            # TYPE kubebpf_http_requests counter
            kubebpf_http_requests_total{pod="cart-1",route="/a\"b\\c\nd"} 3.0

            """.ReplaceLineEndings("\n"), text, StringComparison.Ordinal);
        Assert.Contains("le=\"1.0\"", text, StringComparison.Ordinal);
        Assert.EndsWith("# EOF\n", text, StringComparison.Ordinal);
    }

    [Theory]
    // What Prometheus 2.42 sends without native histograms, then with them (protobuf first), then other clients.
    [InlineData("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", "OpenMetrics")]
    [InlineData("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", "Protobuf")]
    [InlineData("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text,text/plain;q=0.5", "Text")]
    [InlineData("text/plain;q=0.9,application/openmetrics-text;version=1.0.0;q=0.3", "Text")]
    [InlineData("text/plain;version=0.0.4", "Text")]
    [InlineData("image/png", "Text")]
    [InlineData(null, "Text")]
    public void The_format_is_the_highest_quality_one_the_accept_header_names(string? accept, string expected) =>
        Assert.Equal(expected, ExpositionFormats.Negotiate(accept).ToString());

    [Fact]
    public void Promtool_accepts_both_formats()
    {
        foreach (var openMetrics in new[] { false, true })
        {
            var result = Promtool.CheckMetrics(Write(openMetrics));
            // promtool lints names too (it warns about non-base units and the like); only a parse failure fails this.
            Assert.True(result.ExitCode is 0 or 3, $"promtool check metrics (openMetrics: {openMetrics}) failed: {result.Output}");
            Assert.DoesNotContain("error while linting", result.Output, StringComparison.Ordinal);
        }
    }

    private static string Write(bool openMetrics)
    {
        var output = new StringBuilder();
        TextExposition.Write(output, Families, openMetrics);
        return output.ToString();
    }
}
