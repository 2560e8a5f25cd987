using Kubebpf.Dns.Search;

namespace Kubebpf.Dns.Tests;

public sealed class PodProcessFinderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kubebpf-dns-proc-").FullName;

    [Fact]
    public void The_resolv_conf_comes_from_a_process_whose_namespace_holds_the_veth_s_peer()
    {
        // Host: vethA (ifindex 7, peer 3 in its pod). Pod A's process 20 sees eth0 (ifindex 3, iflink 7); pod B's process
        // 30 sees an eth0 whose iflink is 7 too but whose ifindex is not 3 (another namespace's numbering); process 10
        // is in the agent's own namespace.
        Write("sys/vethA/ifindex", "7");
        Write("sys/vethA/iflink", "3");
        Write("sys/lo/ifindex", "1");
        Write("sys/lo/iflink", "1");
        Link("proc/self/ns/net", "net:[100]");
        Link("proc/10/ns/net", "net:[100]");
        Write("proc/10/root/etc/resolv.conf", "search host.example\n");
        Link("proc/30/ns/net", "net:[300]");
        Write("proc/30/root/sys/class/net/eth0/iflink", "7");
        Write("proc/30/root/sys/class/net/eth0/ifindex", "5");
        Write("proc/30/root/etc/resolv.conf", "search wrong.example\n");
        Link("proc/20/ns/net", "net:[200]");
        Write("proc/20/root/sys/class/net/eth0/iflink", "7");
        Write("proc/20/root/sys/class/net/eth0/ifindex", "3");
        Write("proc/20/root/etc/resolv.conf", "nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local\noptions ndots:5\n");
        var finder = new PodProcessFinder(Path.Combine(_root, "proc"), Path.Combine(_root, "sys"));

        Assert.Equal(["shop.svc.cluster.local", "svc.cluster.local"], finder.SearchDomains("vethA") ?? ["not found"]);
        Assert.Null(finder.SearchDomains("lo"));
        Assert.Null(finder.SearchDomains("missing0"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Write(string path, string text)
    {
        var full = Path.Combine(_root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
    }

    private void Link(string path, string target)
    {
        var full = Path.Combine(_root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.CreateSymbolicLink(full, target);
    }
}
