using Kubebpf.Sdk.Events;
using Kubebpf.ServiceMap.Services;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.ServiceMap.Tests;

/// <summary>The kernel's connection tracking asked over netlink where a connection to a DNAT-ed virtual IP went.</summary>
[Trait("Category", "Kernel")]
public sealed class ConntrackTranslatorKernelTests
{
    // Connects, exchanges a line, prints its own port, closes (conntrack keeps the entry in TIME_WAIT).
    private const string Client = """
        import socket, sys
        with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as s:
            s.sendall(b"ping\n")
            assert s.recv(100) == b"ping\n"
            print(s.getsockname()[1])
        """;

    private const string Echo = """
        import socket, sys
        server = socket.create_server(("0.0.0.0", int(sys.argv[1])))
        while True:
            connection, _ = server.accept()
            with connection:
                connection.sendall(connection.recv(100))
        """;

    [Fact]
    public void A_connection_to_a_virtual_IP_translates_to_its_backend_and_a_direct_one_does_not()
    {
        KernelTest.RequireRoot();
        using var pods = NetworkPods.Create(2);
        var (backend, client) = (pods.Pods[0], pods.Pods[1]);
        PodPython.Start(pods, backend, Echo, "8080");
        PodSockets.WaitForListener(backend, 8080, TimeSpan.FromSeconds(10), () => "echo server did not start");
        using var service = ServiceVirtualIp.Create(pods, client, backend, 80, 8080);
        var metrics = new TestAgentMetrics();
        using var translator = new ConntrackTranslator(metrics, TimeProvider.System, NullLogger<ConntrackTranslator>.Instance);

        var viaService = ushort.Parse(PodPython.Run(client, Client, service.Address, "80").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var direct = ushort.Parse(PodPython.Run(client, Client, backend.IPv4, "8080").Trim(), System.Globalization.CultureInfo.InvariantCulture);

        var clientEndpoint = Observations.Endpoint(client.IPv4, viaService);
        Assert.True(translator.TryTranslate(Transport.Tcp, clientEndpoint, Observations.Endpoint(service.Address, 80), out var actual), $"lookups {metrics.Value("conntrack_lookups")} failures {metrics.Value("conntrack_failures")} {actual}");
        Assert.Equal(Observations.Endpoint(backend.IPv4, 8080), actual);
        Assert.False(translator.TryTranslate(Transport.Tcp, Observations.Endpoint(client.IPv4, direct), Observations.Endpoint(backend.IPv4, 8080), out _));
        Assert.False(translator.TryTranslate(Transport.Tcp, Observations.Endpoint(client.IPv4, 1), Observations.Endpoint(service.Address, 80), out _)); // no such connection
        Assert.True(translator.TryTranslate(Transport.Tcp, clientEndpoint, Observations.Endpoint(service.Address, 80), out _)); // cached
        Assert.Equal((3L, 0L), (metrics.Value("conntrack_lookups"), metrics.Value("conntrack_failures"))); // the unknown one is ENOENT, no failure

        // A UDP datagram to the virtual IP (a DNS query to kube-dns, say): conntrack tracks the flow without an answer.
        PodPython.Run(client, "import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('', 40053))\ns.sendto(b'q', (sys.argv[1], 80))", service.Address);
        Assert.True(translator.TryTranslate(Transport.Udp, Observations.Endpoint(client.IPv4, 40053), Observations.Endpoint(service.Address, 80), out var udpBackend));
        Assert.Equal(Observations.Endpoint(backend.IPv4, 8080), udpBackend);
    }
}
