using Kubebpf.Red.CallLog;
using Kubebpf.Sdk.CallLog;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;
using static Kubebpf.Red.Tests.Exchanges;

namespace Kubebpf.Red.Tests;

/// <summary>The points of the call log, one per exchange (sampling off; <see cref="CallLogSamplingTests"/> covers the policy).</summary>
public class CallLogWriterTests
{
    private readonly BatchRecordingWriter _output = new();
    private readonly TestAgentMetrics _metrics = new();

    [Fact]
    public void An_http_exchange_is_the_http_requests_point_it_always_was()
    {
        var writer = Writer();
        writer.Feed(Make("/users/42", status: 201, durationNs: 1_500_000, method: "POST", peer: Payments,
            requestBytes: 64, responseBytes: 128, startUnixNs: 1_700_000_000_123_456_789));

        var point = Assert.Single(Assert.Single(_output.Batches));
        Assert.Equal("http_requests", point.Measurement);
        Assert.Equal(1_700_000_000_123_456_789, point.TimestampUnixNs);
        Assert.Equal(
            [
                new Tag("node", "node-1"),
                new Tag("namespace", "shop"),
                new Tag("workload_kind", "Deployment"),
                new Tag("workload", "cart"),
                new Tag("pod", "cart-7d9f-x2b4q"),
                new Tag("service", "cart-svc"),
                new Tag("direction", "in"),
                new Tag("method", "POST"),
                new Tag("status_class", "2xx"),
                new Tag("peer_namespace", "shop"),
                new Tag("peer_pod", "payments-0"),
                new Tag("peer_workload", "payments"),
            ],
            point.Tags);
        Assert.Equal(
            [
                new Field("path", FieldValue.String("/users/42")),
                new Field("status", FieldValue.Integer(201)),
                new Field("duration_ns", FieldValue.Integer(1_500_000)),
                new Field("weight", FieldValue.Integer(1)),
                new Field("request_bytes", FieldValue.Integer(64)),
                new Field("response_bytes", FieldValue.Integer(128)),
                new Field("client", FieldValue.String("10.1.0.5:51000")),
                new Field("server", FieldValue.String("10.1.0.2:8080")),
                new Field("peer_ip", FieldValue.String("10.1.0.5")),
                new Field("host", FieldValue.String("cart.shop")),
                new Field("version", FieldValue.String("HTTP/1.1")),
            ],
            point.Fields);
    }

    [Fact]
    public void Another_protocol_is_named_by_its_descriptor_with_its_details_and_without_a_code()
    {
        Writer().Feed(MakeRedis("SET", "user:7", ExchangeOutcome.Error));

        var point = Assert.Single(Assert.Single(_output.Batches));
        Assert.Equal("redis_requests", point.Measurement);
        Assert.Equal(
            [
                new Tag("node", "node-1"),
                new Tag("namespace", "shop"),
                new Tag("workload_kind", "Deployment"),
                new Tag("workload", "cart"),
                new Tag("pod", "cart-7d9f-x2b4q"),
                new Tag("service", "cart-svc"),
                new Tag("direction", "out"),
                new Tag("operation", "SET"),
                new Tag("status", "error"),
            ],
            point.Tags);
        Assert.Equal(
            [
                new Field("resource", FieldValue.String("user:7")),
                new Field("duration_ns", FieldValue.Integer(200_000)),
                new Field("weight", FieldValue.Integer(1)),
                new Field("client", FieldValue.String("10.1.0.5:51000")),
                new Field("server", FieldValue.String("10.1.0.2:8080")),
                new Field("peer_ip", FieldValue.String("10.1.0.2")),
                new Field("db", FieldValue.Integer(0)),
            ],
            point.Fields);
    }

    [Fact]
    public void The_operation_tag_is_the_canonical_operation()
    {
        Writer().Feed(Make("/", method: "PURGE"));

        Assert.Equal("OTHER", Assert.Single(Assert.Single(_output.Batches)).Tag("method"));
    }

    [Fact]
    public void Outbound_calls_name_the_server_as_peer_ip()
    {
        Writer().Feed(Make("/", direction: TrafficDirection.Out));

        var point = Assert.Single(Assert.Single(_output.Batches));
        Assert.Equal("out", point.Tag("direction"));
        Assert.Equal("10.1.0.2", point.Field("peer_ip")!.Value.AsString);
    }

    [Fact]
    public void A_query_string_is_written_exactly_when_the_parser_recorded_it()
    {
        Writer().Feed(Make("/login", query: "token=secret"), Make("/login"));

        var batch = Assert.Single(_output.Batches);
        Assert.Equal("token=secret", batch[0].Field("query")!.Value.AsString);
        Assert.Null(batch[1].Field("query"));
    }

    [Fact]
    public void Unknown_sizes_a_missing_host_an_empty_resource_and_no_code_are_omitted()
    {
        Writer().Feed(
            Make("/", host: null, requestBytes: -1, responseBytes: -1),
            Any(RedisProtocol, "PING", "", -1, "ok", ExchangeOutcome.Success));

        var batch = Assert.Single(_output.Batches);
        Assert.Null(batch[0].Field("request_bytes"));
        Assert.Null(batch[0].Field("response_bytes"));
        Assert.Null(batch[0].Field("host"));
        Assert.Equal(["duration_ns", "weight", "client", "server", "peer_ip"], batch[1].Fields.Select(f => f.Key));
    }

    [Fact]
    public void An_unresolved_workload_keeps_only_the_unknown_tag_and_its_addresses_in_fields()
    {
        Writer().Feed(Make("/", unknownWorkload: true));

        var point = Assert.Single(Assert.Single(_output.Batches));
        Assert.Equal("unknown", point.Tag("workload"));
        Assert.Null(point.Tag("pod"));
        Assert.Null(point.Tag("namespace"));
        Assert.Equal("10.1.0.2:8080", point.Field("server")!.Value.AsString);
    }

    [Fact]
    public void A_peer_no_workload_names_gets_the_name_learned_for_its_address()
    {
        var writer = new CallLogWriter(_output, _metrics, Unsampled, Clock, new FixedPeerNames("partner.example", Client), random: null);
        writer.Feed(Make("/a"), Make("/b", peer: Payments), Make("/c", direction: TrafficDirection.Out));

        var batch = Assert.Single(_output.Batches);
        Assert.Equal("partner.example", batch[0].Field("peer_name")!.Value.AsString); // its client, unnamed by metadata
        Assert.Equal(
            ["path", "status", "duration_ns", "weight", "request_bytes", "response_bytes", "client", "server", "peer_ip", "peer_name", "host", "version"],
            batch[0].Fields.Select(f => f.Key));
        Assert.Null(batch[1].Field("peer_name")); // a workload: its tags name it
        Assert.Null(batch[2].Field("peer_name")); // its server: nothing learned
    }

    [Fact]
    public void Equal_operations_and_statuses_in_distinct_strings_share_one_tag_array()
    {
        var first = MakeRedis(new string("GET".AsSpan()));
        var second = MakeRedis(new string("GET".AsSpan())) with { Status = new string("ok".AsSpan()) };
        Writer().Feed(first, second);

        var batch = Assert.Single(_output.Batches);
        Assert.Same(batch[0].Tags, batch[1].Tags);
    }

    [Fact]
    public void A_batch_is_written_once_and_an_empty_batch_not_at_all()
    {
        var writer = Writer();
        writer.Feed(Make("/a"), Make("/b"), Make("/c"));
        writer.Feed();

        Assert.Equal(3, Assert.Single(_output.Batches).Count);
    }

    [Fact]
    public void Exchanges_whose_protocol_code_fails_are_counted_and_the_rest_of_the_batch_is_written()
    {
        var throwing = new ProtocolDescriptor("broken") { CanonicalOperation = _ => throw new InvalidOperationException("bug") };
        Writer().Feed(
            Make("/a"),
            Any(throwing, "GET", "/", 200, "2xx", ExchangeOutcome.Success),
            Make("/b") with { Details = new LyingDetails() },
            default,
            Make("/c"));

        Assert.Equal(["/a", "/c"], Assert.Single(_output.Batches).Select(p => p.Field("path")!.Value.AsString));
        Assert.Equal(3, _metrics.Value("call_log_descriptor_failures"));
    }

    // These tests are about the shape of a point: every exchange gets one at once.
    private static readonly CallLogSamplingOptions Unsampled = new() { Enabled = false };
    private static readonly FixedTimeProvider Clock = new(WindowStartUnixNs);

    private CallLogWriter Writer() => new(_output, _metrics, Unsampled, Clock, peerNames: null, random: null);

    /// <summary>Keeps each batch as it was written, to see how often the writer is called.</summary>
    private sealed class BatchRecordingWriter : IPointWriter
    {
        public List<IReadOnlyList<MetricPoint>> Batches { get; } = [];

        public void Write(MetricPoint point) => Batches.Add([point]);

        public void Write(IReadOnlyList<MetricPoint> points) => Batches.Add(points);
    }

    /// <summary>Announces two fields and writes one.</summary>
    private sealed class LyingDetails : IExchangeDetails
    {
        public int FieldCount => 2;

        public void WriteFields(Span<Field> destination) => destination[0] = new("x", FieldValue.Integer(1));
    }
}
