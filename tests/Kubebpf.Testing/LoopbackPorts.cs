using System.Net;
using System.Net.Sockets;

namespace Kubebpf.Testing;

/// <summary>Free TCP ports on the loopback address, for servers the tests start.</summary>
public static class LoopbackPorts
{
    /// <summary>A port nothing listens on right now (the kernel's pick, so parallel runs do not collide).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
