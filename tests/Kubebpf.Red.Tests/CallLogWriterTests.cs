using Kubebpf.Red.CallLog;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Options;
using static Kubebpf.Red.Tests.Exchanges;

namespace Kubebpf.Red.Tests;

public class CallLogWriterTests
{
    private readonly BatchRecordingWriter _output = new();

    [Fact]
    public void Writes_one_point_per_exchange_with_low_cardinality_tags_and_the_rest_as_fields()
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
    public void Outbound_calls_name_the_server_as_peer_ip()
    {
        Writer().Feed(Make("/", direction: TrafficDirection.Out));

        var point = Assert.Single(Assert.Single(_output.Batches));
        Assert.Equal("out", point.Tag("direction"));
        Assert.Equal("10.1.0.2", point.Field("peer_ip")!.Value.AsString);
    }

    [Fact]
    public void Query_strings_are_not_stored_by_default()
    {
        Writer().Feed(Make("/login", query: "token=secret"));

        Assert.Null(Assert.Single(Assert.Single(_output.Batches)).Field("query"));
    }

    [Fact]
    public void Query_strings_are_stored_when_configured()
    {
        Writer(recordQueryStrings: true).Feed(Make("/login", query: "token=secret"), Make("/login"));

        var batch = Assert.Single(_output.Batches);
        Assert.Equal("token=secret", batch[0].Field("query")!.Value.AsString);
        Assert.Null(batch[1].Field("query"));
    }

    [Fact]
    public void Unknown_sizes_and_a_missing_host_are_omitted()
    {
        Writer().Feed(Make("/", host: null, requestBytes: -1, responseBytes: -1));

        var point = Assert.Single(Assert.Single(_output.Batches));
        Assert.Null(point.Field("request_bytes"));
        Assert.Null(point.Field("response_bytes"));
        Assert.Null(point.Field("host"));
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
    public void A_batch_is_written_once_and_an_empty_batch_not_at_all()
    {
        var writer = Writer();
        writer.Feed(Make("/a"), Make("/b"), Make("/c"));
        writer.Feed();

        Assert.Equal(3, Assert.Single(_output.Batches).Count);
    }

    [Theory]
    [InlineData(101, "1xx")]
    [InlineData(204, "2xx")]
    [InlineData(304, "3xx")]
    [InlineData(499, "4xx")]
    [InlineData(500, "5xx")]
    [InlineData(599, "5xx")]
    [InlineData(600, "other")]
    [InlineData(0, "other")]
    public void Status_classes(int status, string expected)
    {
        Assert.Equal(expected, CallLogWriter.StatusClass(status));
    }

    private CallLogWriter Writer(bool recordQueryStrings = false) =>
        new(_output, Options.Create(new RedOptions { CallLog = { RecordQueryStrings = recordQueryStrings } }));

    /// <summary>Keeps each batch as it was written, to see how often the writer is called.</summary>
    private sealed class BatchRecordingWriter : IPointWriter
    {
        public List<IReadOnlyList<MetricPoint>> Batches { get; } = [];

        public void Write(MetricPoint point) => Batches.Add([point]);

        public void Write(IReadOnlyList<MetricPoint> points) => Batches.Add(points);
    }
}
