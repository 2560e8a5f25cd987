namespace Kubebpf.Testing;

/// <summary>
/// A Kubernetes-style service virtual IP for <see cref="NetworkPods"/>, made as kube-proxy makes one: a DNAT rule in
/// the host's network namespace (nftables, a table of this instance's own) rewriting <see cref="Address"/>:port, TCP
/// and UDP, to a backend pod. The bridge gets an address and routes the client's packets for the virtual IP, and the backend's
/// answers to the client, through the host, so that conntrack sees both directions (what br_netfilter does on a real
/// node). Forwarding is turned on for this bridge only. Dispose removes the table; the pods' routes go with the pods.
/// </summary>
public sealed class ServiceVirtualIp : IDisposable
{
    private readonly string _table;

    private ServiceVirtualIp(string table, string address)
    {
        _table = table;
        Address = address;
    }

    /// <summary>The virtual IP (IPv4, unique per <see cref="NetworkPods"/> instance).</summary>
    public string Address { get; }

    /// <summary>Routes <paramref name="client"/>'s packets for the new virtual IP's <paramref name="port"/> to <paramref name="backend"/>'s <paramref name="targetPort"/>.</summary>
    public static ServiceVirtualIp Create(NetworkPods pods, Pod client, Pod backend, int port, int targetPort)
    {
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(backend);
        var gateway = $"10.213.{pods.Subnet}.254";
        var service = new ServiceVirtualIp($"{pods.Prefix}svc", $"10.214.{pods.Subnet}.10");
        try
        {
            KernelTest.Run("ip", "addr", "add", $"{gateway}/24", "dev", pods.Bridge);
            KernelTest.Run("sysctl", "-qw", $"net.ipv4.conf.{pods.Bridge}.forwarding=1");
            foreach (var pod in (Pod[])[client, backend])
            {
                // The host would redirect them to each other: a redirect would skip the DNAT.
                NetworkPods.Exec(pod, "sysctl -qw net.ipv4.conf.all.accept_redirects=0 && sysctl -qw net.ipv4.conf.eth0.accept_redirects=0");
            }

            NetworkPods.Exec(client, $"ip route add {service.Address}/32 via {gateway}");
            NetworkPods.Exec(backend, $"ip route add {client.IPv4}/32 via {gateway}");
            KernelTest.Run("nft", $"add table ip {service._table}");
            KernelTest.Run("nft", $"add chain ip {service._table} prerouting {{ type nat hook prerouting priority -100 ; }}");
            KernelTest.Run("nft", $"add rule ip {service._table} prerouting ip daddr {service.Address} meta l4proto {{ tcp, udp }} th dport {port} dnat to {backend.IPv4}:{targetPort}");
            return service;
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            KernelTest.Run("nft", $"delete table ip {_table}");
        }
        catch (InvalidOperationException)
        {
            // not created
        }
    }
}
