using System.Buffers;
using BenchmarkDotNet.Attributes;
using Kubebpf.Red.CallLog;
using Kubebpf.Sdk.CallLog;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Benchmarks;

/// <summary>
/// Cost per point of encoding the call log as line protocol, as the InfluxDB sink does: points made by the real call-log
/// writer (9 or 13 tags, 10 fields), one batch into a reused buffer. <see cref="TagArrays.Shared"/> is the call log as it is
/// (one tag array per tag set); <see cref="TagArrays.PerPoint"/> gives every point its own copy, as producers that build
/// arrays per point do, and the batch is larger than the encoder's series cache, so no array is ever found there.
/// </summary>
[MemoryDiagnoser]
public class LineProtocolBenchmarks
{
    // Twice the encoder's series cache, and about a sink batch (5000 points by default).
    private const int BatchSize = 8192;

    private readonly ArrayBufferWriter<byte> _buffer = new(8 * 1024 * 1024);
    private readonly LineProtocolEncoder _encoder = new(LineProtocolOptions.InfluxDb1);
    private MetricPoint[] _points = [];

    public enum TagArrays
    {
        Shared,
        PerPoint,
    }

    [Params(TagArrays.Shared, TagArrays.PerPoint)]
    public TagArrays Tags { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var exchanges = SampleExchanges.Create(BatchSize);
        var collected = new CollectingPointWriter();
        new CallLogWriter(collected, new RedBenchmarks.NullAgentMetrics(), new CallLogSamplingOptions { Enabled = false }, TimeProvider.System, null, null)
            .OnEvents(exchanges);
        _points = Tags == TagArrays.Shared
            ? collected.Points
            : [.. collected.Points.Select(p => new MetricPoint(p.Measurement, [.. p.Tags], [.. p.Fields], p.TimestampUnixNs))];

        // The sink's encoder runs for days: measure it with its caches filled (text is kept from its second sighting on).
        Encoder();
        Encoder();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BatchSize)]
    public int StaticWrite()
    {
        _buffer.ResetWrittenCount();
        return LineProtocol.Write(_points, _buffer, LineProtocolOptions.InfluxDb1).PointsWritten;
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public int Encoder()
    {
        _buffer.ResetWrittenCount();
        return _encoder.Write(_points, _buffer).PointsWritten;
    }

    private sealed class CollectingPointWriter : IPointWriter
    {
        public MetricPoint[] Points { get; private set; } = [];

        public void Write(MetricPoint point) => Points = [.. Points, point];

        public void Write(IReadOnlyList<MetricPoint> points) => Points = [.. Points, .. points];
    }
}
