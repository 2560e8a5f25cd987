using System.Collections.Frozen;
using System.Net;
using BenchmarkDotNet.Attributes;
using Kubebpf.Capture.Capture;
using Kubebpf.Capture.Flows;
using Kubebpf.Http;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Benchmarks;

/// <summary>
/// The capture's flow tracker with HTTP as its protocol. <see cref="RequestResponsePair"/>: one keep-alive
/// request/response pair on one connection, two records (the response with its 1432-byte body), one exchange; nothing
/// should allocate, as the path repeats. <see cref="BothPodsObserved"/>: the work per request of a load test that
/// observes both the client and the server pod: four records (the request and the response on each pod's interface)
/// on one of <see cref="Connections"/> keep-alive connections, named by a resolver shaped like the Kubernetes one, and
/// two exchanges; a batch holds one request per connection. <see cref="ShortConnection"/>: one <c>Connection: close</c>
/// request on its own connection, as the client's and the server's interface see it (handshake, request, response,
/// FINs and their ACKs: 18 records), two exchanges and the connection reports of both ends, with a connection
/// subscriber; its 4-tuple is new each time, as a client's ephemeral ports are.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class TrackerBenchmarks
{
    public const int Connections = 50;
    private const int ResponseBodyBytes = 1432;

    private static readonly byte[] Response = [.. HeadParserBenchmarks.Response, .. new byte[ResponseBodyBytes]];

    private FlowTracker _pairTracker = null!;
    private PacketHeader _request;
    private PacketHeader _response;

    private FlowTracker _podsTracker = null!;
    private Segment[] _segments = null!;

    private FlowTracker _shortTracker = null!;
    private Segment[] _shortSegments = null!;
    private ushort _shortPort = 1024;
    private long _shortReports;

    [GlobalSetup]
    public void Setup()
    {
        _pairTracker = Tracker(resolver: null);
        _request = Header(fromClient: true, 40000, HeadParserBenchmarks.Request.Length);
        _response = Header(fromClient: false, 40000, Response.Length);

        _podsTracker = Tracker(new SnapshotResolver());
        _segments = new Segment[Connections * 4];
        for (var i = 0; i < Connections; i++)
        {
            var port = (ushort)(40000 + i);
            var request = Header(fromClient: true, port, HeadParserBenchmarks.Request.Length);
            var response = Header(fromClient: false, port, Response.Length);
            // Peer-side interfaces: a packet leaving the pod is outgoing from the pod, so it travels away from it.
            _segments[i * 4] = new(request, isRequest: true, towards: false, "veth-client");
            _segments[(i * 4) + 1] = new(request, isRequest: true, towards: true, "veth-server");
            _segments[(i * 4) + 2] = new(response, isRequest: false, towards: false, "veth-server");
            _segments[(i * 4) + 3] = new(response, isRequest: false, towards: true, "veth-client");
        }

        _shortTracker = Tracker(new SnapshotResolver(), batch => _shortReports += batch.Length);
        _shortSegments = [.. ShortConnectionPackets().SelectMany(packet => new[]
        {
            // Each packet leaves one pod's interface and enters the other's (peer-side interfaces, as above).
            new Segment(packet.Header, packet.IsRequest, towards: false, packet.FromClient ? "veth-client" : "veth-server"),
            new Segment(packet.Header, packet.IsRequest, towards: true, packet.FromClient ? "veth-server" : "veth-client"),
        })];
    }

    /// <summary>A whole <c>Connection: close</c> exchange: handshake, request, response, both FINs, the ACKs between.</summary>
    private static IEnumerable<(PacketHeader Header, bool IsRequest, bool FromClient)> ShortConnectionPackets()
    {
        const uint clientIsn = 1000, serverIsn = 9000;
        var requestLength = (uint)HeadParserBenchmarks.Request.Length;
        var responseLength = (uint)Response.Length;
        (byte Flags, bool FromClient, uint Seq, uint Length)[] packets =
        [
            (PacketHeader.Syn, true, clientIsn, 0),
            (PacketHeader.Syn | PacketHeader.Ack, false, serverIsn, 0),
            (PacketHeader.Ack, true, clientIsn + 1, 0),
            (PacketHeader.Ack, true, clientIsn + 1, requestLength),
            (PacketHeader.Ack, false, serverIsn + 1, 0),
            (PacketHeader.Ack, false, serverIsn + 1, responseLength),
            (PacketHeader.Fin | PacketHeader.Ack, false, serverIsn + 1 + responseLength, 0),
            (PacketHeader.Fin | PacketHeader.Ack, true, clientIsn + 1 + requestLength, 0),
            (PacketHeader.Ack, false, serverIsn + 2 + responseLength, 0),
        ];
        foreach (var (flags, fromClient, seq, length) in packets)
        {
            var header = Header(fromClient, 1024, (int)length);
            header.TcpFlags = flags;
            header.Seq = seq;
            yield return (header, fromClient && length > 0, fromClient);
        }
    }

    [Benchmark]
    public long ShortConnection()
    {
        _shortPort = _shortPort == ushort.MaxValue ? (ushort)1024 : (ushort)(_shortPort + 1);
        var segments = _shortSegments;
        for (var i = 0; i < segments.Length; i++)
        {
            ref var segment = ref segments[i];
            segment.Header.TimestampNs += 1_000_000;
            if (segment.Header.SourcePort == 8080)
            {
                segment.Header.DestinationPort = _shortPort;
            }
            else
            {
                segment.Header.SourcePort = _shortPort;
            }

            var payload = segment.Header.PayloadLength == 0 ? [] : segment.IsRequest ? HeadParserBenchmarks.Request : Response;
            _shortTracker.OnPacket(segment.Header, payload, segment.Towards, segment.Interface);
        }

        _shortTracker.OnBatchEnd();
        return _shortReports;
    }

    [Benchmark]
    public int RequestResponsePair()
    {
        _request.TimestampNs += 1000;
        _response.TimestampNs = _request.TimestampNs + 500;
        _pairTracker.OnPacket(_request, HeadParserBenchmarks.Request, towardsEndpoint: true, "lo");
        _pairTracker.OnPacket(_response, Response, towardsEndpoint: false, "lo");
        _pairTracker.OnBatchEnd();
        _request.Seq += _request.PayloadLength;
        _response.Seq += _response.PayloadLength;
        return _pairTracker.TrackedFlows;
    }

    [Benchmark(OperationsPerInvoke = Connections)]
    public int BothPodsObserved()
    {
        var segments = _segments;
        for (var i = 0; i < segments.Length; i++)
        {
            ref var segment = ref segments[i];
            segment.Header.TimestampNs += 1_000_000;
            _podsTracker.OnPacket(segment.Header, segment.IsRequest ? HeadParserBenchmarks.Request : Response, segment.Towards, segment.Interface);
            segment.Header.Seq += segment.Header.PayloadLength;
        }

        _podsTracker.OnBatchEnd();
        return segments.Length;
    }

    private static FlowTracker Tracker(IWorkloadResolver? resolver, Action<ReadOnlySpan<TcpConnectionReport>>? connections = null)
    {
        var metrics = new NullMetrics();
        var http = new HttpProtocol(new HttpOptions(), metrics);
        return new FlowTracker(
            new FlowTrackerOptions(), metrics, [new ProtocolRegistration<IStreamProtocol>(http, "Http", _ => { })], [], resolver, static _ => { },
            connections);
    }

    private static PacketHeader Header(bool fromClient, ushort clientPort, int payloadLength)
    {
        var header = new PacketHeader
        {
            Seq = fromClient ? 1000u : 9000u,
            PayloadLength = (uint)payloadLength,
            CapturedLength = (ushort)payloadLength,
            Family = 4,
            Protocol = PacketHeader.ProtocolTcp,
            TcpFlags = PacketHeader.Ack,
            SourcePort = fromClient ? clientPort : (ushort)8080,
            DestinationPort = fromClient ? (ushort)8080 : clientPort,
        };
        ReadOnlySpan<byte> client = [10, 0, 0, 1];
        ReadOnlySpan<byte> server = [10, 0, 0, 2];
        (fromClient ? client : server).CopyTo(header.SourceAddress);
        (fromClient ? server : client).CopyTo(header.DestinationAddress);
        return header;
    }

    private struct Segment(PacketHeader header, bool isRequest, bool towards, string interfaceName)
    {
        public PacketHeader Header = header;
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
