using System.Net;
using Kubebpf.Http.Capture;
using Kubebpf.Http.Tracking;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;

namespace Kubebpf.Http.Tests;

/// <summary>Exchanges are named (interface, observed workload, peer) as the tracker completes them.</summary>
public class ExchangeNamingTests
{
    private static readonly WorkloadIdentity Client = new("shop", "client-1", "Deployment", "client", "", "node-1");
    private static readonly WorkloadIdentity Server = new("shop", "orders-1", "Deployment", "orders", "orders", "node-1");
    private static readonly WorkloadIdentity ServerByInterface = new("shop", "orders-1", "Deployment", "orders", "orders-by-veth", "node-1");

    [Fact]
    public void The_namer_gets_the_observed_end_as_local_and_names_the_exchange()
    {
        var namer = new RecordingNamer();
        var conversation = new Conversation(namer: namer);
        conversation.Send(fromClient: true, "GET /a HTTP/1.1\r\n\r\n"u8, timestampNs: 0);
        conversation.Send(fromClient: false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8, timestampNs: 5);
        conversation.ObserveClient = true;
        conversation.Send(fromClient: true, "GET /b HTTP/1.1\r\n\r\n"u8, timestampNs: 10);
        conversation.Send(fromClient: false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8, timestampNs: 15);

        var client = NetworkEndpoint.From(IPAddress.Parse("10.0.1.1"), Conversation.ClientPort(1));
        var server = NetworkEndpoint.From(IPAddress.Parse("10.0.0.2"), Conversation.ServerPort);
        Assert.Equal([(server, client), (client, server)], namer.Calls);
        Assert.Collection(
            conversation.Exchanges,
            e => Assert.Equal((TrafficDirection.In, "if-1", Server, Client), (e.Direction, e.Interface, e.Workload, e.Peer)),
            e => Assert.Equal((TrafficDirection.Out, "if-2", Server, Client), (e.Direction, e.Interface, e.Workload, e.Peer)));
    }

    [Fact]
    public void A_keep_alive_connection_reuses_its_path_and_host_strings()
    {
        var conversation = new Conversation();
        conversation.Send(fromClient: true, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"u8, timestampNs: 0);
        conversation.Send(fromClient: false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8, timestampNs: 5);
        conversation.Send(fromClient: true, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"u8, timestampNs: 10);
        conversation.Send(fromClient: false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8, timestampNs: 15);
        conversation.Send(fromClient: true, "GET /b HTTP/1.1\r\nHost: y\r\n\r\n"u8, timestampNs: 20);
        conversation.Send(fromClient: false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8, timestampNs: 25);

        var (first, second, third) = (conversation.Exchanges[0], conversation.Exchanges[1], conversation.Exchanges[2]);
        Assert.Same(first.Path, second.Path);
        Assert.Same(first.Host, second.Host);
        Assert.Equal(("/b", "y"), (third.Path, third.Host));
    }

    [Fact]
    public void Both_pods_observed_give_one_exchange_per_interface_named_by_interface_then_endpoint()
    {
        var publisher = new CollectingPublisher();
        var assembler = new ExchangeAssembler(new HttpTrackerOptions(), new TestAgentMetrics(), 0, publisher, new Resolver());
        var batches = 0;
        assembler.BatchEnded += () => batches++;
        var request = "GET /orders HTTP/1.1\r\nHost: orders\r\n\r\n"u8;
        var response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8;

        // Peer-side interfaces: what leaves a pod travels away from it.
        assembler.OnSegment(Header(3, fromClient: true, 100, request.Length), request, towardsEndpoint: false, "veth-client");
        assembler.OnSegment(Header(4, fromClient: true, 101, request.Length), request, towardsEndpoint: true, "veth-server");
        assembler.OnSegment(Header(4, fromClient: false, 200, response.Length), response, towardsEndpoint: false, "veth-server");
        assembler.OnSegment(Header(3, fromClient: false, 201, response.Length), response, towardsEndpoint: true, "veth-client");
        Assert.Empty(publisher.Batches);
        assembler.OnBatchEnd();

        var batch = Assert.Single(publisher.Batches);
        Assert.Equal(1, batches);
        Assert.Collection(
            batch,
            e => Assert.Equal((TrafficDirection.In, "veth-server", ServerByInterface, Client, 99L), (e.Direction, e.Interface, e.Workload, e.Peer, e.DurationNs)),
            e => Assert.Equal((TrafficDirection.Out, "veth-client", Client, Server, 101L), (e.Direction, e.Interface, e.Workload, e.Peer, e.DurationNs)));
    }

    [Fact]
    public void Exchanges_ended_by_eviction_have_no_interface_and_resolve_by_endpoint()
    {
        var publisher = new CollectingPublisher();
        var assembler = new ExchangeAssembler(new HttpTrackerOptions(), new TestAgentMetrics(), 0, publisher, new Resolver());
        var request = "GET /big HTTP/1.1\r\n\r\n"u8;
        var response = "HTTP/1.1 200 OK\r\n\r\n"u8; // delimited by the close: open until the connection ends
        assembler.OnSegment(Header(4, fromClient: true, 100, request.Length), request, towardsEndpoint: true, "veth-server");
        assembler.OnSegment(Header(4, fromClient: false, 200, response.Length), response, towardsEndpoint: false, "veth-server");
        assembler.OnBatchEnd();
        Assert.Empty(publisher.Batches);

        assembler.EvictIdle(200 + (long)TimeSpan.FromMinutes(5).TotalNanoseconds);

        var exchange = Assert.Single(Assert.Single(publisher.Batches));
        Assert.Equal(("", Server, Client), (exchange.Interface, exchange.Workload, exchange.Peer));
    }

    private static SegmentHeader Header(uint ifIndex, bool fromClient, ulong timestampNs, int length)
    {
        var header = new SegmentHeader
        {
            TimestampNs = timestampNs,
            IfIndex = ifIndex,
            Seq = fromClient ? 1000u : 5000u,
            PayloadLength = (uint)length,
            CapturedLength = (ushort)length,
            Family = 4,
            SourcePort = fromClient ? (ushort)40001 : (ushort)8080,
            DestinationPort = fromClient ? (ushort)8080 : (ushort)40001,
        };
        byte[] client = [10, 0, 1, 1], server = [10, 0, 0, 2];
        (fromClient ? client : server).CopyTo(header.SourceAddress);
        (fromClient ? server : client).CopyTo(header.DestinationAddress);
        return header;
    }

    private sealed class RecordingNamer : IExchangeNamer
    {
        public List<(NetworkEndpoint Local, NetworkEndpoint Remote)> Calls { get; } = [];

        public ExchangeNames Name(in NetworkEndpoint local, in NetworkEndpoint remote)
        {
            Calls.Add((local, remote));
            return new ExchangeNames($"if-{Calls.Count}", Server, Client);
        }
    }

    private sealed class Resolver : IWorkloadResolver
    {
        public WorkloadIdentity? ResolveEndpoint(in NetworkEndpoint endpoint) => endpoint.AddressText switch
        {
            "10.0.1.1" => Client,
            "10.0.0.2" => Server,
            _ => null,
        };

        public WorkloadIdentity? ResolveInterface(string interfaceName) => interfaceName == "veth-server" ? ServerByInterface : null;
    }

    private sealed class CollectingPublisher : IEventPublisher<HttpExchange>
    {
        public List<HttpExchange[]> Batches { get; } = [];

        public void Publish(ReadOnlySpan<HttpExchange> batch) => Batches.Add(batch.ToArray());
    }
}
