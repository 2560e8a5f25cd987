using Kubebpf.Agent.Sinks;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Testing;

namespace Kubebpf.Agent.Tests.Sinks;

/// <summary>The estimates against what the runtime really allocates for the points (GC.GetAllocatedBytesForCurrentThread).</summary>
public sealed class PointSizeTests
{
    private const string Measurement = "http_requests";
    private static readonly string[] TagKeys = ["namespace", "pod", "workload", "direction", "method", "status", "peer_workload"];
    private static readonly string[] FieldKeys = ["path", "code", "duration_ns", "request_bytes", "response_bytes", "client", "server", "peer_ip"];

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(10, 12, 40)]
    [InlineData(3, 30, 200)]
    public void A_point_with_its_own_tag_array_is_estimated_within_2_percent_of_its_allocation(int tagCount, int fieldCount, int textLength)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var tags = new Tag[tagCount];
        for (var i = 0; i < tagCount; i++)
        {
            tags[i] = new Tag(new string('k', 3 + i), new string('v', textLength));
        }

        var fields = new Field[fieldCount];
        for (var i = 0; i < fieldCount; i++)
        {
            // The keys are the producer's vocabulary (literals here), not the point's.
            fields[i] = new Field(FieldKeys[i % FieldKeys.Length], i % 2 == 0 ? FieldValue.String(new string('t', textLength)) : FieldValue.Integer(i));
        }

        var point = new MetricPoint(Measurement, tags, fields, 1);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var estimate = PointSize.Owned(point) + PointSize.Tags(point.Tags);

        Assert.InRange(estimate, allocated * 0.98, allocated * 1.02);
    }

    [Fact]
    public void A_buffer_of_call_log_points_sharing_tag_arrays_is_estimated_within_5_percent_of_their_allocation()
    {
        // As the call log builds them: one tag array per series (50 here), shared by its points; a path per point;
        // endpoint texts per point.
        const int Points = 20_000;
        const int Series = 50;
        var before = GC.GetAllocatedBytesForCurrentThread();
        var series = new Tag[Series][];
        for (var s = 0; s < Series; s++)
        {
            series[s] = new Tag[TagKeys.Length];
            for (var t = 0; t < TagKeys.Length; t++)
            {
                series[s][t] = new Tag(TagKeys[t], new string((char)('a' + t), 8 + (s % 20)));
            }
        }

        var points = new MetricPoint[Points];
        for (var i = 0; i < Points; i++)
        {
            points[i] = new MetricPoint(Measurement, series[i % Series],
            [
                new Field(FieldKeys[0], FieldValue.String(new string('/', 10 + (i % 40)))),
                new Field(FieldKeys[1], FieldValue.Integer(200)),
                new Field(FieldKeys[2], FieldValue.Integer(i)),
                new Field(FieldKeys[3], FieldValue.Integer(100)),
                new Field(FieldKeys[4], FieldValue.Integer(612)),
                new Field(FieldKeys[5], FieldValue.String(new string('1', 15))),
                new Field(FieldKeys[6], FieldValue.String(new string('2', 13))),
                new Field(FieldKeys[7], FieldValue.String(new string('3', 9))),
            ], i);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before - (24 + (8L * Series)) - (24 + (8L * Points)); // without the two holding arrays
        var metrics = new TestAgentMetrics();
        var buffer = new PointBuffer(Points, long.MaxValue, 1000, long.MaxValue, metrics.Counter("overflow", ""), metrics.Counter("total", ""));

        Assert.True(buffer.Add(points));

        Assert.InRange(buffer.Bytes, allocated * 0.95, allocated * 1.05);
    }

    [Fact]
    public void A_shared_tag_array_is_charged_while_any_point_using_it_is_held_and_released_with_the_last()
    {
        var metrics = new TestAgentMetrics();
        var buffer = new PointBuffer(2, long.MaxValue, 1, long.MaxValue, metrics.Counter("overflow", ""), metrics.Counter("total", ""));
        Tag[] shared = [new("workload", "api")];
        var first = new MetricPoint(Measurement, shared, [new Field("n", FieldValue.Integer(1))], 1);
        var second = new MetricPoint(Measurement, shared, [new Field("n", FieldValue.Integer(2))], 2);
        var other = new MetricPoint(Measurement, [new("workload", "db")], [new Field("n", FieldValue.Integer(3))], 3);
        var sharedBytes = PointSize.Tags(shared);

        buffer.Add(first);
        buffer.Add(second);
        Assert.Equal(PointSize.Owned(first) + PointSize.Owned(second) + sharedBytes, buffer.Bytes);

        buffer.Add(other); // the limit of two evicts the first point: the array stays with the second
        Assert.Equal(PointSize.Owned(second) + sharedBytes + PointSize.Owned(other) + PointSize.Tags(other.Tags), buffer.Bytes);

        for (var i = 0; i < 2; i++)
        {
            buffer.SelectBatch();
            buffer.Complete();
        }

        Assert.Equal(0, buffer.Bytes);
        Assert.Equal(1, metrics.Value("overflow"));
    }
}
