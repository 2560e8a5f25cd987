using Kubebpf.Sdk.Metrics;
using Microsoft.Extensions.Time.Testing;

namespace Kubebpf.Console.Tests;

public sealed class ConsoleSinkTests
{
    private readonly StringWriter _output = new();
    private readonly FakeTimeProvider _time = new();

    public ConsoleSinkTests() => _time.SetLocalTimeZone(TimeZoneInfo.Utc);

    private ConsoleSink Sink(ConsoleSinkOptions? options = null) =>
        new(options ?? new ConsoleSinkOptions(), ConsoleOutput.Create(_output, isTerminal: false, width: 200), _time);

    private async Task<string> Write(ConsoleSink sink, params MetricPoint[] points)
    {
        await sink.WriteAsync(points, CancellationToken.None);
        return _output.ToString();
    }

    [Fact]
    public async Task The_table_shows_the_exact_figures_of_each_series()
    {
        var text = await Write(Sink(),
            Points.Red("api", "in", "GET", "/users/{id}", requests: 200, rate: 20, clientErrors: 10, errors: 3, p50: 1.234, p90: 12.5, p99: 203.7),
            Points.Red("web", "out", "POST", "/orders", requests: 5, rate: 0.5, p50: 0.42, p90: 0.9, p99: 1));

        var api = Line(text, "shop/api/api-0");
        Assert.Equal(["shop/api/api-0", "in", "http", "GET", "/users/{id}", "20.0", "5.0%", "1.5%", "1.23", "12.5", "204"], Cells(api));
        Assert.Equal(["shop/web/web-0", "out", "http", "POST", "/orders", "0.50", "0.0%", "0.0%", "0.42", "0.90", "1.00"], Cells(Line(text, "shop/web/web-0")));
        Assert.Contains("| namespace/workload/pod | dir | protocol | operation | resource", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_header_totals_the_window_from_the_rollups()
    {
        var text = await Write(Sink(),
            Points.Red("api", "in", "GET", "/a", requests: 60, rate: 6, clientErrors: 6),
            Points.Red("api", "in", "GET", "/b", requests: 40, rate: 4, errors: 2),
            Points.Red("api", "in", "*", "*", requests: 100, rate: 10, clientErrors: 6, errors: 2),
            Points.Red("api", "out", "GET", "user:1", requests: 20, rate: 2, errors: 4, protocol: "redis"),
            Points.Red("api", "out", "*", "*", requests: 20, rate: 2, errors: 4, protocol: "redis"));

        Assert.Contains(
            "R.E.D. window ending 12:00:10 (10.0 s)  |  3 series  |  120 requests, 12.0 req/s  |  client errors 5.0%  |  errors 5.0%",
            text,
            StringComparison.Ordinal);
        Assert.DoesNotContain("| *", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rows_are_sorted_by_rate_and_capped_at_max_rows()
    {
        var text = await Write(Sink(new ConsoleSinkOptions { MaxRows = 2 }),
            Points.Red("slow", "in", "GET", "/", requests: 10, rate: 1),
            Points.Red("fast", "in", "GET", "/", requests: 500, rate: 50),
            Points.Red("mid", "in", "GET", "/", requests: 100, rate: 10));

        Assert.True(text.IndexOf("shop/fast", StringComparison.Ordinal) < text.IndexOf("shop/mid", StringComparison.Ordinal));
        Assert.DoesNotContain("shop/slow", text, StringComparison.Ordinal);
        Assert.Contains("... 1 more series not shown (MaxRows 2)", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_the_newest_window_is_shown()
    {
        var sink = Sink();
        await Write(sink, Points.Red("old", "in", "GET", "/", requests: 1, rate: 0.1, at: Points.WindowEnd - 10_000_000_000));
        _output.GetStringBuilder().Clear();

        var text = await Write(sink,
            Points.Red("new", "in", "GET", "/", requests: 30, rate: 3),
            Points.Red("late", "in", "GET", "/", requests: 9, rate: 0.9, at: Points.WindowEnd - 10_000_000_000));

        Assert.Contains("shop/new/new-0", text, StringComparison.Ordinal);
        Assert.DoesNotContain("shop/old", text, StringComparison.Ordinal);
        Assert.DoesNotContain("shop/late", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_window_split_over_two_batches_is_shown_whole()
    {
        var sink = Sink();
        await Write(sink, Points.Red("a", "in", "GET", "/", requests: 10, rate: 1));
        _output.GetStringBuilder().Clear();

        var text = await Write(sink, Points.Red("b", "in", "GET", "/", requests: 20, rate: 2));

        Assert.Contains("shop/a/a-0", text, StringComparison.Ordinal);
        Assert.Contains("shop/b/b-0", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_header_lists_non_zero_loss_counters_of_the_agent()
    {
        var text = await Write(Sink(),
            Points.Agent("Http", ("ringbuf_drops", 3), ("parser_desyncs", 0), ("exchanges", 1000)),
            Points.Agent("InfluxDb", ("overflow_dropped", 12), ("written", 5000)),
            Points.Red("api", "in", "GET", "/", requests: 10, rate: 1));

        Assert.Contains("agent losses: Http.ringbuf_drops=3  InfluxDb.overflow_dropped=12", text, StringComparison.Ordinal);
        Assert.DoesNotContain("parser_desyncs", text, StringComparison.Ordinal);
        Assert.DoesNotContain("exchanges=", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Before_any_traffic_the_agent_points_show_a_waiting_header()
    {
        var text = await Write(Sink(), Points.Agent("Http", ("ringbuf_drops", 0)));

        Assert.Contains("R.E.D. window ending -  |  0 series  |  0 requests, 0.00 req/s", text, StringComparison.Ordinal);
        Assert.Contains("agent: no data lost", text, StringComparison.Ordinal);
        Assert.Contains("waiting for the first R.E.D. window ...", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_call_log_prints_one_compact_line_per_exchange_when_enabled()
    {
        var text = await Write(Sink(new ConsoleSinkOptions { ShowCallLog = true }),
            Points.Call("in", "GET", "/users/42", 200, 3_456_000, peer: "frontend"),
            Points.Call("out", "POST", "/orders", 503, 210_000_000));

        Assert.Contains("12:00:10.123 in  shop/api/api-0 http GET /users/42 200 3.46 ms <- shop/frontend", text, StringComparison.Ordinal);
        Assert.Contains("12:00:10.123 out shop/api/api-0 http POST /orders 503 210 ms", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_call_log_is_off_by_default()
    {
        var text = await Write(Sink(), Points.Call("in", "GET", "/users/42", 200, 3_456_000));

        Assert.Equal("", text);
    }

    [Fact]
    public void Without_the_call_log_shown_the_host_is_asked_to_keep_it_from_the_sink()
    {
        string[] measurements = [Points.Call("in", "GET", "/", 200, 1).Measurement, Points.RedisCall("GET", "k", "ok", 1).Measurement,
            Points.Red("api", "in", "GET", "/", requests: 1, rate: 1).Measurement, Points.Agent("Http", ("ringbuf_drops", 0)).Measurement, "service_map"];

        Assert.Equal(measurements[2..], measurements.Where(Sink().Accepts));
        Assert.Equal(measurements, measurements.Where(Sink(new ConsoleSinkOptions { ShowCallLog = true }).Accepts));
    }

    [Fact]
    public async Task The_call_log_of_a_protocol_without_a_code_shows_its_status_tag()
    {
        var text = await Write(Sink(new ConsoleSinkOptions { ShowCallLog = true }), Points.RedisCall("GET", "user:1", "ok", 200_000));

        Assert.Contains("12:00:10.123 out shop/api/api-0 redis GET user:1 ok 0.20 ms", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_protocols_red_measurement_shares_the_table_with_its_own_tag_names()
    {
        var text = await Write(Sink(),
            Points.Red("api", "in", "GET", "/users/{id}", requests: 100, rate: 10),
            Points.Red("api", "out", "SET", "session", requests: 50, rate: 5, errors: 5, protocol: "redis"),
            Points.Red("api", "out", "A", "example.org", requests: 20, rate: 2, clientErrors: 1, protocol: "dns"));

        Assert.Equal(["shop/api/api-0", "out", "redis", "SET", "session", "5.00", "0.0%", "10.0%", "1.00", "2.00", "3.00"], Cells(Line(text, "shop/api/api-0", "redis")));
        Assert.Equal(["shop/api/api-0", "out", "dns", "A", "example.org", "2.00", "5.0%", "0.0%", "1.00", "2.00", "3.00"], Cells(Line(text, "shop/api/api-0", "dns")));
        Assert.Contains("3 series", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Series_split_by_status_show_it_after_their_resource_and_the_roll_up_stays_hidden()
    {
        var text = await Write(Sink(),
            Points.Red("api", "out", "A", "example.org", requests: 20, rate: 2, protocol: "dns", rcode: "NOERROR"),
            Points.Red("api", "out", "A", "example.org", requests: 5, rate: 0.5, clientErrors: 5, protocol: "dns", rcode: "NXDOMAIN"),
            Points.Red("api", "out", "*", "*", requests: 25, rate: 2.5, clientErrors: 5, protocol: "dns", rcode: "*"));

        var rows = text.Split('\n').Where(l => l.Contains("| dns ", StringComparison.Ordinal)).Select(Cells).ToList();
        Assert.Equal([("example.org NOERROR", "2.00"), ("example.org NXDOMAIN", "0.50")], rows.Select(r => (r[4], r[5])));
        Assert.Contains("2 series  |  25 requests", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Other_measurements_show_the_latest_point_of_each_series_at_the_next_render()
    {
        var sink = Sink();
        await Write(sink, Points.Custom("tcp_retransmits", "api-0", new Field("count", FieldValue.Integer(3))));
        Assert.Equal("", _output.ToString()); // shown with the next flush, not point by point

        var text = await Write(sink,
            Points.Custom("tcp_retransmits", "api-0", new Field("count", FieldValue.Integer(7)), new Field("ratio", FieldValue.Float(0.125))),
            Points.Custom("tcp_retransmits", "web-0", new Field("count", FieldValue.Integer(1))),
            Points.Custom("cpu_profile", "api-0", new Field("top", FieldValue.String(new string('f', 60)))),
            Points.Agent("Http", ("ringbuf_drops", 0)));

        Assert.Contains("other measurements (latest point of each series):", text, StringComparison.Ordinal);
        Assert.Contains("  tcp_retransmits pod=api-0  count=7 ratio=0.13  (12:00:10)", text, StringComparison.Ordinal);
        Assert.Contains("  tcp_retransmits pod=web-0  count=1  (12:00:10)", text, StringComparison.Ordinal);
        Assert.Contains($"  cpu_profile pod=api-0  top=\"{new string('f', 40)}...\"  (12:00:10)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("count=3", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Other_measurements_are_bounded_and_the_rest_counted()
    {
        var text = await Write(Sink(new ConsoleSinkOptions { MaxOtherSeries = 2 }),
            Points.Custom("custom", "a", new Field("v", FieldValue.Integer(1))),
            Points.Custom("custom", "b", new Field("v", FieldValue.Integer(2))),
            Points.Custom("custom", "c", new Field("v", FieldValue.Integer(3))),
            Points.Custom("custom", "a", new Field("v", FieldValue.Integer(4))),
            Points.Custom("custom", "d", new Field("v", FieldValue.Integer(5))),
            Points.Agent("Http", ("ringbuf_drops", 0)));

        Assert.Contains("custom pod=a  v=4", text, StringComparison.Ordinal);
        Assert.Contains("custom pod=b  v=2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("pod=c", text, StringComparison.Ordinal);
        Assert.Contains("... 2 points of further series not shown (MaxOtherSeries 2)", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_logs_never_count_as_other_measurements()
    {
        var text = await Write(Sink(), Points.Call("in", "GET", "/", 200, 1_000), Points.RedisCall("GET", "k", "ok", 1_000), Points.Agent("Http", ("ringbuf_drops", 0)));

        Assert.DoesNotContain("other measurements", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redirected_output_is_plain_text_without_escape_sequences()
    {
        var text = await Write(Sink(), Points.Red("api", "in", "GET", "/", requests: 10, rate: 1, errors: 1));

        Assert.DoesNotContain('\u001b', text);
        Assert.All(text, c => Assert.True(c < 128, $"non-ASCII character U+{(int)c:X4} in plain output"));
        Assert.Contains("+---", text, StringComparison.Ordinal);
    }

    private static string Line(string text, string start, string protocol = "http") =>
        text.Split('\n').Single(l => l.TrimStart('|', ' ').StartsWith(start, StringComparison.Ordinal) && Cells(l)[2] == protocol);

    private static string[] Cells(string line) =>
        [.. line.Trim().Trim('|').Split('|').Select(c => c.Trim())];
}
