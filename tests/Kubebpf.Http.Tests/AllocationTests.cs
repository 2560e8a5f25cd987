using System.Net;
using Kubebpf.Capture.Capture;
using Kubebpf.Capture.Flows;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;

namespace Kubebpf.Http.Tests;

/// <summary>What the capture and the HTTP parser allocate on the capture thread once warm.</summary>
public sealed class AllocationTests
{
    private static readonly IPEndPoint Client = new(IPAddress.Parse("10.0.0.1"), 40000);
    private static readonly IPEndPoint Server = new(IPAddress.Parse("10.0.0.2"), 8080);

    [Fact]
    public void Short_connections_allocate_nothing_per_connection_once_warm()
    {
        var exchanges = 0;
        var reports = 0;
        var tracker = new FlowTracker(
            new FlowTrackerOptions(),
            new TestAgentMetrics(),
            [new ProtocolRegistration<IStreamProtocol>(new HttpProtocol(new HttpOptions(), new TestAgentMetrics()), "Http", ex => throw ex)],
            [],
            resolver: null,
            batch => exchanges += batch.Length,
            batch => reports += batch.Length);
        byte[] request = "GET /orders/42 HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n"u8.ToArray();
        byte[] response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray();
        const uint clientIsn = 1000, serverIsn = 9000;
        // One Connection: close exchange as the server's interface sees it; the same 4-tuple again each time, as a
        // client's ports come round.
        (PacketHeader Header, byte[] Payload, bool FromClient)[] packets =
        [
            (PacketFactory.Tcp(Client, Server, clientIsn, 0, flags: PacketHeader.Syn), [], true),
            (PacketFactory.Tcp(Server, Client, serverIsn, 0, flags: PacketHeader.Syn | PacketHeader.Ack), [], false),
            (PacketFactory.Tcp(Client, Server, clientIsn + 1, request.Length, flags: PacketHeader.Ack), request, true),
            (PacketFactory.Tcp(Server, Client, serverIsn + 1, response.Length, flags: PacketHeader.Ack), response, false),
            (PacketFactory.Tcp(Server, Client, serverIsn + 1 + (uint)response.Length, 0, flags: PacketHeader.Fin | PacketHeader.Ack), [], false),
            (PacketFactory.Tcp(Client, Server, clientIsn + 1 + (uint)request.Length, 0, flags: PacketHeader.Fin | PacketHeader.Ack), [], true),
        ];

        void Connect()
        {
            foreach (var (header, payload, fromClient) in packets)
            {
                tracker.OnPacket(header, payload, towardsEndpoint: fromClient, "veth-test");
            }

            tracker.OnBatchEnd();
        }

        Connect(); // the first connection's flow and parser are made, then kept for the next ones
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            Connect();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal((1_001, 1_001), (exchanges, reports));
    }
}
