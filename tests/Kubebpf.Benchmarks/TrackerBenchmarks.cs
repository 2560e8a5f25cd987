using System.Collections.Frozen;
using System.Net;
using BenchmarkDotNet.Attributes;
using Kubebpf.Http;
using Kubebpf.Http.Capture;
using Kubebpf.Http.Tracking;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Benchmarks;

/// <summary>
/// <see cref="RequestResponsePair"/>: one keep-alive request/response pair through
/// <see cref="HttpConnectionTracker.OnSegment"/>, two segments, one exchange; nothing should allocate, as the path
/// repeats. <see cref="BothPodsObserved"/>: the work per request of a load test that observes both the client and the
/// server pod: four segments (the request and the response on each pod's interface) on one of <see cref="Connections"/>
/// keep-alive connections, through <see cref="ExchangeAssembler"/> with a resolver shaped like the Kubernetes one, and
/// two named exchanges; a batch holds one request per connection.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class TrackerBenchmarks
{
    public const int Connections = 50;
    private const uint ClientIfIndex = 3;
    private const uint ServerIfIndex = 4;

    private readonly List<HttpExchange> _completed = new(16);
    private HttpConnectionTracker _tracker = null!;
    private SegmentHeader _request;
    private SegmentHeader _response;

    private ExchangeAssembler _assembler = null!;
    private Segment[] _segments = null!;

    [GlobalSetup]
    public void Setup()
    {
        _tracker = new HttpConnectionTracker(new HttpTrackerOptions(), new NullMetrics(), monotonicToUnixOffsetNs: 0);
        _request = Header(ClientIfIndex, fromClient: true, 40000, HeadParserBenchmarks.Request.Length);
        _response = Header(ClientIfIndex, fromClient: false, 40000, HeadParserBenchmarks.Response.Length + 1432);

        _assembler = new ExchangeAssembler(new HttpTrackerOptions(), new NullMetrics(), monotonicToUnixOffsetNs: 0, new NullPublisher(), new SnapshotResolver());
        _segments = new Segment[Connections * 4];
        for (var i = 0; i < Connections; i++)
        {
            var port = (ushort)(40000 + i);
            var requestLength = HeadParserBenchmarks.Request.Length;
            var responseLength = HeadParserBenchmarks.Response.Length + 1432;
            // Peer-side interfaces: a packet leaving the pod is outgoing from the pod, so it travels away from it.
            _segments[i * 4] = new(Header(ClientIfIndex, fromClient: true, port, requestLength), isRequest: true, towards: false, "veth-client");
            _segments[(i * 4) + 1] = new(Header(ServerIfIndex, fromClient: true, port, requestLength), isRequest: true, towards: true, "veth-server");
            _segments[(i * 4) + 2] = new(Header(ServerIfIndex, fromClient: false, port, responseLength), isRequest: false, towards: false, "veth-server");
            _segments[(i * 4) + 3] = new(Header(ClientIfIndex, fromClient: false, port, responseLength), isRequest: false, towards: true, "veth-client");
        }
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

    [Benchmark(OperationsPerInvoke = Connections)]
    public int BothPodsObserved()
    {
        var segments = _segments;
        for (var i = 0; i < segments.Length; i++)
        {
            ref var segment = ref segments[i];
            segment.Header.TimestampNs += 1_000_000;
            _assembler.OnSegment(segment.Header, segment.IsRequest ? HeadParserBenchmarks.Request : HeadParserBenchmarks.Response, segment.Towards, segment.Interface);
            segment.Header.Seq += segment.Header.PayloadLength;
        }

        _assembler.OnBatchEnd();
        return segments.Length;
    }

    private static SegmentHeader Header(uint ifIndex, bool fromClient, ushort clientPort, int payloadLength)
    {
        var header = new SegmentHeader
        {
            IfIndex = ifIndex,
            Seq = fromClient ? 1000u : 9000u,
            PayloadLength = (uint)payloadLength,
            CapturedLength = (ushort)Math.Min(payloadLength, 1024),
            Family = 4,
            SourcePort = fromClient ? clientPort : (ushort)8080,
            DestinationPort = fromClient ? (ushort)8080 : clientPort,
        };
        ReadOnlySpan<byte> client = [10, 0, 0, 1];
        ReadOnlySpan<byte> server = [10, 0, 0, 2];
        (fromClient ? client : server).CopyTo(header.SourceAddress);
        (fromClient ? server : client).CopyTo(header.DestinationAddress);
        return header;
    }

    private struct Segment(SegmentHeader header, bool isRequest, bool towards, string interfaceName)
    {
        public SegmentHeader Header = header;
        public readonly bool IsRequest = isRequest;
        public readonly bool Towards = towards;
        public readonly string Interface = interfaceName;
    }

    private sealed class NullMetrics : IAgentMetrics
    {
        public Counter Counter(string name, string description) => new(name, description);

        public void Gauge(string name, string description, Func<long> read)
        {
        }
    }

    private sealed class NullPublisher : IEventPublisher<HttpExchange>
    {
        public void Publish(ReadOnlySpan<HttpExchange> batch)
        {
        }
    }

    /// <summary>Looks up like the Kubernetes metadata snapshot: pod addresses with any port, pod interfaces by name.</summary>
    private sealed class SnapshotResolver : IWorkloadResolver
    {
        private readonly FrozenDictionary<NetworkEndpoint, WorkloadIdentity> _byEndpoint;
        private readonly FrozenDictionary<string, WorkloadIdentity> _byInterface;

        public SnapshotResolver()
        {
            var client = new WorkloadIdentity("shop", "client-5d8f-abcde", "Deployment", "client", "", "node-1");
            var server = new WorkloadIdentity("shop", "orders-7c9b-fghij", "Deployment", "orders", "orders", "node-1");
            _byEndpoint = new Dictionary<NetworkEndpoint, WorkloadIdentity>
            {
                [NetworkEndpoint.From(IPAddress.Parse("10.0.0.1"), 0)] = client,
                [NetworkEndpoint.From(IPAddress.Parse("10.0.0.2"), 0)] = server,
            }.ToFrozenDictionary();
            _byInterface = new Dictionary<string, WorkloadIdentity> { ["veth-client"] = client, ["veth-server"] = server }
                .ToFrozenDictionary(StringComparer.Ordinal);
        }

        public WorkloadIdentity? ResolveEndpoint(in NetworkEndpoint endpoint)
        {
            var key = endpoint.Canonical();
            return _byEndpoint.TryGetValue(key, out var identity) || (key.Port != 0 && _byEndpoint.TryGetValue(key.WithPort(0), out identity))
                ? identity
                : null;
        }

        public WorkloadIdentity? ResolveInterface(string interfaceName) =>
            _byInterface.TryGetValue(interfaceName, out var identity) ? identity : null;
    }
}
