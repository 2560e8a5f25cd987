using Google.Protobuf;
using Kubebpf.Otlp.Export;
using Kubebpf.Testing.Otlp.Proto;

namespace Kubebpf.Otlp.Tests;

/// <summary>The counts the sink reads from request and response bodies, against messages encoded by the protobuf runtime.</summary>
public sealed class OtlpWireTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Counts_the_data_points_of_every_metric_kind_across_resources_and_scopes(bool grpc)
    {
        var request = new ExportMetricsServiceRequest
        {
            ResourceMetrics =
            {
                new ResourceMetrics
                {
                    ScopeMetrics =
                    {
                        new ScopeMetrics
                        {
                            Metrics =
                            {
                                new Metric { Name = "s", Sum = new Sum { DataPoints = { new NumberDataPoint { AsInt = 1 }, new NumberDataPoint { AsInt = 2 } } } },
                                new Metric { Name = "h", Histogram = new Histogram { DataPoints = { new HistogramDataPoint { Count = 3, BucketCounts = { 1, 2 } } } } },
                            },
                        },
                    },
                },
                new ResourceMetrics
                {
                    ScopeMetrics = { new ScopeMetrics { Metrics = { new Metric { Name = "g", Gauge = new Gauge { DataPoints = { new NumberDataPoint { AsDouble = 1 } } } } } } },
                },
            },
        };
        Assert.Equal(4, OtlpWire.CountItems(Body(request, grpc), OtlpSignal.Metrics, grpc));
    }

    [Fact]
    public void Counts_log_records()
    {
        var request = new ExportLogsServiceRequest
        {
            ResourceLogs = { new ResourceLogs { ScopeLogs = { new ScopeLogs { LogRecords = { new LogRecord(), new LogRecord(), new LogRecord { SeverityNumber = 9 } } } } } },
        };
        Assert.Equal(3, OtlpWire.CountItems(Body(request, grpc: false), OtlpSignal.Logs, grpc: false));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_the_rejected_count_of_a_partial_success(bool grpc)
    {
        var metrics = new ExportMetricsServiceResponse { PartialSuccess = new ExportMetricsPartialSuccess { RejectedDataPoints = 7, ErrorMessage = "no" } };
        var logs = new ExportLogsServiceResponse { PartialSuccess = new ExportLogsPartialSuccess { RejectedLogRecords = 300 } };
        Assert.Equal((7, 300, 0), (OtlpWire.Rejected(Body(metrics, grpc), grpc), OtlpWire.Rejected(Body(logs, grpc), grpc),
            OtlpWire.Rejected(Body(new ExportLogsServiceResponse(), grpc), grpc)));
    }

    [Theory]
    [InlineData(new byte[] { 0x0a, 0x05, 0x01 })] // a length beyond the end
    [InlineData(new byte[] { 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff })] // a varint that never ends
    [InlineData(new byte[] { 0x0b })] // a group
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x09, 0x0a })] // a gRPC frame longer than the body, read as protobuf
    public void Malformed_bodies_read_as_nothing(byte[] body)
    {
        Assert.Equal(0, OtlpWire.CountItems(body, OtlpSignal.Logs, grpc: false));
        Assert.Equal(0, OtlpWire.CountItems(body, OtlpSignal.Metrics, grpc: true));
        Assert.Equal(0, OtlpWire.Rejected(body, grpc: false));
    }

    private static byte[] Body(IMessage message, bool grpc)
    {
        var payload = message.ToByteArray();
        if (!grpc)
        {
            return payload;
        }

        var frame = new byte[5 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }
}
