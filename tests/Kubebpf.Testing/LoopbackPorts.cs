using System.Net;
using System.Net.Sockets;

namespace Kubebpf.Testing;

/// <summary>Free TCP ports on the loopback address, for servers the tests start.</summary>
public static class LoopbackPorts
{
    // Below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768 to 60999 by default): a port the kernel
    // hands out can be taken by any process's outgoing connection between this check and the server's bind, and an
    // influxd then failed with "address already in use". Here only another explicit bind can take it.
    private const int FirstPort = 20000;
    private const int PortCount = 32768 - FirstPort;

    /// <summary>A port nothing listens on right now, picked at random below the ephemeral range (so parallel runs do not collide).</summary>
    /// <exception cref="InvalidOperationException">No free port was found in 1,000 tries.</exception>
    public static int Free()
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = FirstPort + Random.Shared.Next(PortCount);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // taken: try another
            }
        }

        throw new InvalidOperationException($"No free loopback port between {FirstPort} and {FirstPort + PortCount - 1}.");
    }
}
