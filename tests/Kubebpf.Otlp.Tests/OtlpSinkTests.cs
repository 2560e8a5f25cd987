using System.Diagnostics;
using System.Globalization;
using Kubebpf.Otlp.CallLog;
using Kubebpf.Otlp.Metrics;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Testing;
using Kubebpf.Testing.Otlp;

namespace Kubebpf.Otlp.Tests;

/// <summary>The sink against a receiver that decodes the real OTLP messages, over both transports.</summary>
public sealed class OtlpSinkTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(OtlpTransport.Grpc)]
    [InlineData(OtlpTransport.HttpProtobuf)]
    public async Task Exchanges_arrive_as_counters_and_histograms_with_semantic_convention_names(OtlpTransport transport)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using (var sink = new Sink(receiver, transport))
        {
            sink.Exchanges.OnEvents([
                Sink.Http("GET", "/ok", 200), Sink.Http("GET", "/ok", 200), Sink.Http("POST", "/items", 201),
                Sink.Http("GET", "/fail", 500, durationNs: 300_000_000),
                Sink.Http("GET", "/ok", 200, direction: TrafficDirection.Out, workload: Sink.Payments, peer: Sink.Cart),
            ]);
            Poll.Until(() => Requests(receiver, "kubebpf.http.server.requests") == 4 && Requests(receiver, "kubebpf.http.client.requests") == 1,
                "4 served and 1 made request", () => Describe(receiver), Deadline);
        }

        var latest = receiver.LatestDataPoints();
        var getOk = Assert.Single(latest, p => p.Metric == "kubebpf.http.server.requests" && p.Attribute("http.route") == "/ok");
        Assert.Equal(2, getOk.Value);
        Assert.Equal(2, getOk.Temporality); // cumulative
        Assert.Equal(
            new Dictionary<string, string?>
            {
                ["k8s.namespace.name"] = "shop", ["k8s.pod.name"] = "cart-7d9f-x2b4q", ["k8s.deployment.name"] = "cart", ["k8s.node.name"] = "node-1",
                ["server.address"] = "10.1.0.2", ["http.request.method"] = "GET", ["http.route"] = "/ok",
                ["http.response.status_code"] = "200",
            },
            getOk.Attributes.ToDictionary(a => a.Key, a => getOk.Attribute(a.Key)));

        var failed = Assert.Single(latest, p => p.Metric == "http.server.request.duration" && p.Attribute("http.route") == "/fail");
        Assert.Equal(("s", 1UL, "5xx"), (failed.Unit, failed.Count, failed.Attribute("error.type")));
        Assert.Equal(ExchangeInstruments.DurationBoundaries, failed.Bounds);
        var bucket = failed.BucketCounts.ToList().FindIndex(c => c == 1);
        Assert.Equal((0.25, 0.5), (failed.Bounds[bucket - 1], failed.Bounds[bucket])); // 300 ms lands in (0.25 s, 0.5 s]

        var served = latest.Where(p => p.Metric == "http.server.request.duration").Sum(p => (long)p.Count);
        Assert.Equal(4, served);
        var made = Assert.Single(latest, p => p.Metric == "http.client.request.duration");
        Assert.Equal(("payments-0", "payments", "cart-svc"), (made.Attribute("k8s.pod.name"), made.Attribute("k8s.statefulset.name"), made.Attribute("server.address")));
        Assert.Equal(OtlpTelemetry.ServiceName, getOk.Resource["service.name"]);
        Assert.Equal("kubebpf.otlp", getOk.Scope);
        Assert.All(receiver.DataPoints(), p => Assert.Equal(transport, p.Transport));
    }

    [Theory]
    [InlineData(OtlpTransport.Grpc)]
    [InlineData(OtlpTransport.HttpProtobuf)]
    public async Task Unsampled_the_call_log_is_one_log_record_per_exchange_stamped_with_its_start(OtlpTransport transport)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var exchanges = Enumerable.Range(0, 50).Select(i => Sink.Http("GET", $"/items/{i}", i % 10 == 0 ? 503 : 200, startUnixNs: Sink.StartUnixNs + i)).ToArray();
        using (var sink = new Sink(receiver, transport, new() { ["CallLog:Enabled"] = "true", ["CallLog:Sampling:Enabled"] = "false", ["CallLog:ExportInterval"] = "00:00:00.100" }))
        {
            sink.CallLog.OnEvents(exchanges);
            Poll.Until(() => receiver.LogRecords().Count == exchanges.Length, $"{exchanges.Length} log records", () => $"{receiver.LogRecords().Count}", Deadline);
            Assert.Equal(0, sink.Metrics.Value("log_records_dropped"));
        }

        var records = receiver.LogRecords().OrderBy(r => r.TimeUnixNano).ToList();
        Assert.Equal(exchanges.Select(e => $"/items/{e.StartUnixNs - Sink.StartUnixNs}"), records.Select(r => r.Attribute("url.path")));
        // LogRecord timestamps are DateTime: 100 ns ticks.
        Assert.Equal(exchanges.Select(e => (ulong)(e.StartUnixNs / 100 * 100)), records.Select(r => r.TimeUnixNano));
        var first = records[0];
        Assert.Equal(("http_requests", "http_requests"), (first.Body, first.EventName));
        Assert.Equal(
            ("GET", "503", "5xx", "shop", "cart", "10.1.0.5", "51000", "in", "1000000"),
            (first.Attribute("http.request.method"), first.Attribute("http.response.status_code"), first.Attribute("error.type"),
                first.Attribute("k8s.namespace.name"), first.Attribute("k8s.deployment.name"), first.Attribute("client.address"),
                first.Attribute("client.port"), first.Attribute("kubebpf.direction"), first.Attribute("kubebpf.duration_ns")));
        Assert.Equal("cart.shop", first.Attribute("http.host")); // the HTTP details, as the InfluxDB call log has them
        Assert.All(records, r => Assert.Equal("1", r.Attribute(CallLogExporter.WeightAttribute)));
        Assert.Null(first.Attribute("http.query")); // no query string unless the parser kept one
        Assert.Equal(OtlpTelemetry.ServiceName, first.Resource["service.name"]);
    }

    [Theory]
    [InlineData(OtlpTransport.Grpc)]
    [InlineData(OtlpTransport.HttpProtobuf)]
    public async Task The_call_log_keeps_every_error_and_slow_call_and_a_weighted_sample_of_the_rest_at_each_flush(OtlpTransport transport)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var exchanges = Enumerable.Range(0, 500).Select(i => Sink.Http(
                path: $"/items/{i}", status: i % 10 == 0 ? 503 : 200, durationNs: i % 25 == 1 ? 150_000_000 : 1_000_000,
                workload: i % 3 == 0 ? Sink.Payments : Sink.Cart, startUnixNs: Sink.StartUnixNs + i))
            .ToArray(); // 50 errors, 20 slow calls, 430 others over two workloads
        List<string?> errorsAndSlow = [.. exchanges.Where(e => e.Code == 503 || e.DurationNs >= 100_000_000).Select(e => e.Resource).Order()];
        var started = Stopwatch.GetTimestamp(); // the window starts when the exporter is made, and ends a second after now
        using (var sink = new Sink(receiver, transport, new()
        {
            ["CallLog:Enabled"] = "true", ["CallLog:ExportInterval"] = "00:00:00.100", ["CallLog:Sampling:PerSecond"] = "2",
        }))
        {
            sink.CallLog.OnEvents(exchanges);
            Poll.Until(() => receiver.LogRecords().Count == errorsAndSlow.Count, "the errors and slow calls at once", () => $"{receiver.LogRecords().Count}", Deadline);
            Assert.Equal(errorsAndSlow, receiver.LogRecords().Select(r => r.Attribute("url.path")).Order());

            var flushed = new CollectingPointWriter();
            sink.CallLog.Flush(UnixNowNs() + 1_000_000_000, flushed); // a window of about a second: 2 per workload
            var windowSeconds = 1 + Stopwatch.GetElapsedTime(started).TotalSeconds;
            Assert.Empty(flushed.Points);
            Poll.Until(() => receiver.LogRecords().Sum(Weight) == exchanges.Length, "weights adding up to the exchanges", () => $"{receiver.LogRecords().Sum(Weight)}", Deadline);
            var sampled = receiver.LogRecords().Where(r => !errorsAndSlow.Contains(r.Attribute("url.path"))).ToList();
            Assert.InRange(sampled.Count, 2, 2 * Math.Ceiling(2 * windowSeconds));
            Assert.Equal(430 - sampled.Count, sink.Metrics.Value("call_log_sampled_out"));
            Assert.Equal((0, 0, 0), (sink.Metrics.Value("call_log_errors_sampled_out"), sink.Metrics.Value("call_log_slow_sampled_out"), sink.Metrics.Value("log_records_dropped")));
        }

        var records = receiver.LogRecords();
        Assert.All(records.Where(r => errorsAndSlow.Contains(r.Attribute("url.path"))), r => Assert.Equal(1, Weight(r)));
        Assert.Equal(
            exchanges.CountBy(e => e.Workload!.WorkloadName).Select(c => (c.Key, (long)c.Value)).Order(),
            records.GroupBy(r => r.Attribute("k8s.deployment.name") ?? r.Attribute("k8s.statefulset.name")).Select(g => (g.Key!, g.Sum(Weight))).Order());
    }

    [Fact]
    public async Task An_error_storm_is_bounded_its_errors_beyond_the_allowance_sampled_with_weights_and_counted()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var started = Stopwatch.GetTimestamp();
        using var sink = new Sink(receiver, OtlpTransport.Grpc, new()
        {
            ["CallLog:Enabled"] = "true", ["CallLog:ExportInterval"] = "00:00:00.100", ["CallLog:Sampling:AtOncePerSecond"] = "1",
        });
        sink.CallLog.OnEvents([.. Enumerable.Range(0, 1000).Select(i => Sink.Http(path: $"/{i}", status: 500, startUnixNs: Sink.StartUnixNs + i))]);
        sink.CallLog.Flush(UnixNowNs() + 1_000_000_000, new CollectingPointWriter());
        var windowSeconds = 1 + Stopwatch.GetElapsedTime(started).TotalSeconds;

        Poll.Until(() => receiver.LogRecords().Sum(Weight) == 1000, "weights adding up to the 1,000 errors", () => $"{receiver.LogRecords().Sum(Weight)}", Deadline);
        var records = receiver.LogRecords();
        // The first window assumes 10 s: 10 at once, the first 10; then a sample of the others for a window of about 1 s.
        Assert.Equal([.. Enumerable.Range(0, 10).Select(i => $"/{i}")], records.Where(r => Weight(r) == 1).Select(r => r.Attribute("url.path")).Take(10));
        Assert.InRange(records.Count, 10 + 1, 10 + Math.Ceiling(windowSeconds));
        Assert.Equal(1000 - records.Count, sink.Metrics.Value("call_log_errors_sampled_out"));
    }

    [Fact]
    public async Task Other_protocols_are_named_kubebpf_protocol_with_their_descriptors_keys()
    {
        var dns = new Sdk.Protocols.ProtocolDescriptor("dns") { OperationTag = "qtype", ResourceTag = "qname", StatusTag = "rcode" };
        await using var receiver = await OtlpReceiver.StartAsync();
        using (var sink = new Sink(receiver, OtlpTransport.Grpc))
        {
            sink.Exchanges.OnEvents([
                Sink.Http(direction: TrafficDirection.Out) with
                {
                    Protocol = dns, Operation = "A", Resource = "cart.shop.svc.cluster.local", Code = 3, Status = "NXDOMAIN",
                    Outcome = ExchangeOutcome.ClientError, Transport = Transport.Udp, Details = null,
                },
            ]);
            Poll.Until(() => Requests(receiver, "kubebpf.dns.client.requests") == 1, "the DNS request", () => Describe(receiver), Deadline);
        }

        var point = Assert.Single(receiver.LatestDataPoints(), p => p.Metric == "kubebpf.dns.client.duration");
        Assert.Equal(("udp", "A", "cart.shop.svc.cluster.local", "NXDOMAIN", null), (point.Attribute("network.transport"), point.Attribute("dns.qtype"),
            point.Attribute("dns.qname"), point.Attribute("dns.rcode"), point.Attribute("error.type")));
    }

    [Fact]
    public async Task Delta_temporality_exports_what_each_interval_added()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var sink = new Sink(receiver, OtlpTransport.Grpc, new() { ["Temporality"] = "delta" });
        sink.Exchanges.OnEvents([Sink.Http(), Sink.Http()]);
        Poll.Until(() => Sums(receiver).Contains(2), "an export of 2 requests", () => string.Join(",", Sums(receiver)), Deadline);
        sink.Exchanges.OnEvents([Sink.Http()]);
        Poll.Until(() => Sums(receiver).Contains(1), "an export of the 1 request added", () => string.Join(",", Sums(receiver)), Deadline);

        Assert.Equal(3, Sums(receiver).Sum());
        Assert.All(receiver.DataPoints().Where(p => p.Metric == "kubebpf.http.server.requests"), p => Assert.Equal(1, p.Temporality));

        static List<double> Sums(OtlpReceiver receiver) =>
            [.. receiver.DataPoints().Where(p => p.Metric == "kubebpf.http.server.requests" && p.Value > 0).Select(p => p.Value)];
    }

    [Fact]
    public async Task Headers_are_sent_with_every_export()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var sink = new Sink(receiver, OtlpTransport.HttpProtobuf, new() { ["Headers"] = "api-key=k1,x-tenant=t1" });
        sink.Exchanges.OnEvents([Sink.Http()]);
        Poll.Until(() => receiver.Requests > 0, "an export", timeout: Deadline);
        Assert.Equal(("k1", "t1"), (receiver.LastHeaders.GetValueOrDefault("api-key"), receiver.LastHeaders.GetValueOrDefault("x-tenant")));
    }

    [Theory]
    [InlineData(OtlpTransport.Grpc, 429)]
    [InlineData(OtlpTransport.HttpProtobuf, 429)]
    [InlineData(OtlpTransport.HttpProtobuf, 503)]
    public async Task A_throttled_export_is_retried_after_the_delay_asked(OtlpTransport transport, int status)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        receiver.Answer(new ReceiverAnswer(status, RetryAfterSeconds: 1), times: 2);
        using var sink = new Sink(receiver, transport, new() { ["ExportInterval"] = "00:01:00", ["CallLog:Enabled"] = "true", ["CallLog:Sampling:Enabled"] = "false", ["CallLog:ExportInterval"] = "00:00:00.100" });
        sink.CallLog.OnEvents([Sink.Http(), Sink.Http()]);
        Poll.Until(() => receiver.LogRecords().Count == 2, "the 2 records, after 2 refusals", () => $"refused {receiver.Refused}", Deadline);

        Assert.Equal(2, receiver.Refused);
        Assert.Equal((2, 2, 0, 0), (sink.Metrics.Value("export_attempts_failed"), sink.Metrics.Value("export_retries"),
            sink.Metrics.Value("log_exports_failed"), sink.Metrics.Value("log_records_failed")));
    }

    [Theory]
    [InlineData(OtlpTransport.Grpc)]
    [InlineData(OtlpTransport.HttpProtobuf)]
    public async Task A_refused_export_is_counted_with_the_records_it_carried(OtlpTransport transport)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        receiver.Answer(new ReceiverAnswer(400));
        using var sink = new Sink(receiver, transport, new() { ["ExportInterval"] = "00:01:00", ["CallLog:Enabled"] = "true", ["CallLog:Sampling:Enabled"] = "false", ["CallLog:ExportInterval"] = "00:00:00.100" });
        sink.CallLog.OnEvents([Sink.Http(), Sink.Http(), Sink.Http()]);
        Poll.Until(() => sink.Metrics.Value("log_records_failed") == 3, "3 records counted lost", () => $"refused {receiver.Refused}", Deadline);

        Assert.Equal((1, 1, 0), (sink.Metrics.Value("log_exports_failed"), receiver.Refused, sink.Metrics.Value("export_retries")));
        Assert.Empty(receiver.LogRecords());
    }

    [Theory]
    [InlineData(OtlpTransport.Grpc)]
    [InlineData(OtlpTransport.HttpProtobuf)]
    public async Task A_partial_success_counts_what_the_receiver_rejected(OtlpTransport transport)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        receiver.Answer(new ReceiverAnswer(200, Rejected: 2), times: 1);
        using var sink = new Sink(receiver, transport, new() { ["ExportInterval"] = "00:01:00", ["CallLog:Enabled"] = "true", ["CallLog:Sampling:Enabled"] = "false", ["CallLog:ExportInterval"] = "00:00:00.100" });
        sink.CallLog.OnEvents([Sink.Http(), Sink.Http(), Sink.Http()]);
        Poll.Until(() => sink.Metrics.Value("log_records_rejected") == 2, "2 records counted rejected", () => $"{receiver.LogRecords().Count} records", Deadline);
        Assert.Equal(0, sink.Metrics.Value("log_records_failed"));
    }

    [Theory]
    [InlineData(OtlpTransport.Grpc)]
    [InlineData(OtlpTransport.HttpProtobuf)]
    public async Task Cumulative_totals_survive_a_receiver_that_was_down(OtlpTransport transport)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var sink = new Sink(receiver, transport, new() { ["ExportTimeout"] = "00:00:01" });
        sink.Exchanges.OnEvents([Sink.Http()]);
        Poll.Until(() => Requests(receiver, "kubebpf.http.server.requests") == 1, "the first request", () => Describe(receiver), Deadline);

        await receiver.StopAsync();
        sink.Exchanges.OnEvents([Sink.Http(), Sink.Http()]);
        Poll.Until(() => sink.Metrics.Value("metric_exports_failed") >= 2, "exports failing while the receiver is down", timeout: Deadline);
        Assert.True(sink.Metrics.Value("metric_points_failed") >= 2);

        await receiver.StartAgainAsync();
        Poll.Until(() => Requests(receiver, "kubebpf.http.server.requests") == 3, "all 3 requests once it is back", () => Describe(receiver), Deadline);
    }

    [Fact]
    public async Task Routes_beyond_the_cap_of_a_workload_collapse_into_other_and_are_counted()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var sink = new Sink(receiver, OtlpTransport.Grpc, new() { ["MaxRoutesPerWorkload"] = "3" });
        sink.Exchanges.OnEvents([.. Enumerable.Range(0, 5).Select(i => Sink.Http(path: $"/r{i}"))]);
        Poll.Until(() => Requests(receiver, "kubebpf.http.server.requests") == 5, "5 requests", () => Describe(receiver), Deadline);

        var routes = receiver.LatestDataPoints().Where(p => p.Metric == "kubebpf.http.server.requests").ToDictionary(p => p.Attribute("http.route")!, p => p.Value);
        Assert.Equal(new Dictionary<string, double> { ["/r0"] = 1, ["/r1"] = 1, ["/r2"] = 1, [RouteLimiter.Other] = 2 }, routes);
        Assert.Equal(2, sink.Metrics.Value("routes_collapsed"));
    }

    [Fact]
    public async Task Series_beyond_the_cardinality_limit_go_to_overflow_and_are_counted()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var sink = new Sink(receiver, OtlpTransport.Grpc, new() { ["CardinalityLimit"] = "4", ["MaxRoutesPerWorkload"] = "4" });
        sink.Exchanges.OnEvents([.. Enumerable.Range(0, 10).Select(i => Sink.Http(path: $"/r{i % 4}", status: 200 + i))]);
        Poll.Until(() => Requests(receiver, "kubebpf.http.server.requests") == 10, "10 requests", () => Describe(receiver), Deadline);
        Poll.Until(() => sink.Metrics.Value("requests_in_overflow") > 0, "overflow counted", timeout: Deadline);

        var overflow = Assert.Single(receiver.LatestDataPoints(), p => p.Metric == "kubebpf.http.server.requests" && p.Attribute("otel.metric.overflow") == "True");
        Assert.Equal(overflow.Value, sink.Metrics.Value("requests_in_overflow"));
    }

    [Fact]
    public async Task The_agents_self_metrics_are_exported_as_gauges()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var sink = new Sink(receiver, OtlpTransport.HttpProtobuf);
        await sink.AgentMetrics!.WriteAsync(
            [
                new MetricPoint("kubebpf_agent", [new("node", "n1"), new("component", "Capture")], [new("exchanges", FieldValue.Integer(42))], 1),
                new MetricPoint("http_requests", [new("pod", "p")], [new("duration_ns", FieldValue.Integer(1))], 1),
            ],
            CancellationToken.None);
        Poll.Until(() => receiver.LatestDataPoints().Any(p => p.Metric == "kubebpf.agent.exchanges"), "the self-metric", () => Describe(receiver), Deadline);

        var gauge = Assert.Single(receiver.LatestDataPoints(), p => p.Metric == "kubebpf.agent.exchanges");
        Assert.Equal((42d, "gauge", "Capture", "n1"), (gauge.Value, gauge.Kind, gauge.Attribute("kubebpf.component"), gauge.Attribute("k8s.node.name")));
        Assert.DoesNotContain(receiver.DataPoints(), p => p.Metric.Contains("duration_ns", StringComparison.Ordinal));
    }

    [Fact]
    public async Task While_the_receiver_is_down_every_record_is_either_dropped_from_the_full_queue_or_counted_failed()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await receiver.StopAsync();
        using var sink = new Sink(receiver, OtlpTransport.HttpProtobuf, new()
        {
            ["ExportInterval"] = "00:01:00", ["ExportTimeout"] = "00:00:01", ["CallLog:Enabled"] = "true", ["CallLog:Sampling:Enabled"] = "false", ["CallLog:MaxQueueSize"] = "10",
            ["CallLog:MaxExportBatchSize"] = "10", ["CallLog:ExportInterval"] = "00:00:00.100",
        });
        sink.CallLog.OnEvents([.. Enumerable.Range(0, 25).Select(_ => Sink.Http())]);

        // The queue holds 10 and the exporter takes 10 at a time: at least 5 cannot wait, the rest fail with the receiver down.
        Poll.Until(
            () => sink.Metrics.Value("log_records_dropped") + sink.Metrics.Value("log_records_failed") == 25, "all 25 records accounted for",
            () => $"dropped {sink.Metrics.Value("log_records_dropped")}, failed {sink.Metrics.Value("log_records_failed")}", Deadline);
        Assert.InRange(sink.Metrics.Value("log_records_dropped"), 5, 15);
    }

    private static long Weight(OtlpLogRecord record) => long.Parse(record.Attribute(CallLogExporter.WeightAttribute)!, CultureInfo.InvariantCulture);

    private static long UnixNowNs() => (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * TimeSpan.NanosecondsPerTick;

    private static double Requests(OtlpReceiver receiver, string metric) =>
        receiver.LatestDataPoints().Where(p => p.Metric == metric).Sum(p => p.Value);

    private static string Describe(OtlpReceiver receiver) =>
        string.Join("; ", receiver.LatestDataPoints().Select(p => $"{p.Metric}{{{p.SeriesKey}}}={p.Value}/{p.Count}"));
}
