using BenchmarkDotNet.Attributes;
using Kubebpf.Http.Capture;
using Kubebpf.Http.Tracking;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Benchmarks;

/// <summary>
/// One keep-alive request/response pair through <see cref="HttpConnectionTracker.OnSegment"/>: two segments, one
/// exchange. The only allocation expected is the path string.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class TrackerBenchmarks
{
    private readonly List<HttpExchange> _completed = new(16);
    private HttpConnectionTracker _tracker = null!;
    private SegmentHeader _request;
    private SegmentHeader _response;

    [GlobalSetup]
    public void Setup()
    {
        _tracker = new HttpConnectionTracker(new HttpTrackerOptions(), new NullMetrics(), monotonicToUnixOffsetNs: 0);
        _request = Header(fromClient: true, HeadParserBenchmarks.Request.Length);
        _response = Header(fromClient: false, HeadParserBenchmarks.Response.Length + 1432);
    }

    [Benchmark]
    public int RequestResponsePair()
    {
        _completed.Clear();
        _request.TimestampNs += 1000;
        _response.TimestampNs = _request.TimestampNs + 500;
        _tracker.OnSegment(_request, HeadParserBenchmarks.Request, towardsEndpoint: true, _completed);
        _tracker.OnSegment(_response, HeadParserBenchmarks.Response, towardsEndpoint: false, _completed);
        _request.Seq += _request.PayloadLength;
        _response.Seq += _response.PayloadLength;
        return _completed.Count;
    }

    private static SegmentHeader Header(bool fromClient, int payloadLength)
    {
        var header = new SegmentHeader
        {
            IfIndex = 3,
            Seq = fromClient ? 1000u : 9000u,
            PayloadLength = (uint)payloadLength,
            CapturedLength = (ushort)Math.Min(payloadLength, 1024),
            Family = 4,
            SourcePort = fromClient ? (ushort)40000 : (ushort)8080,
            DestinationPort = fromClient ? (ushort)8080 : (ushort)40000,
        };
        ReadOnlySpan<byte> client = [10, 0, 0, 1];
        ReadOnlySpan<byte> server = [10, 0, 0, 2];
        (fromClient ? client : server).CopyTo(header.SourceAddress);
        (fromClient ? server : client).CopyTo(header.DestinationAddress);
        return header;
    }

    private sealed class NullMetrics : IAgentMetrics
    {
        public Counter Counter(string name, string description) => new(name, description);

        public void Gauge(string name, string description, Func<long> read)
        {
        }
    }
}
