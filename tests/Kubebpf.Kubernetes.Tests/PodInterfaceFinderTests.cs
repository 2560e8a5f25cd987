using Kubebpf.Kubernetes.Attach;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Kubernetes.Tests;

/// <summary>Interface discovery over a /proc and /sys laid out in a folder as the kernel shows them.</summary>
public sealed class PodInterfaceFinderTests : IDisposable
{
    private const string Uid = "6a1e2f3c-7b8d-4e9f-a0b1-c2d3e4f5a6b7";
    private readonly string _root = Directory.CreateTempSubdirectory("kubebpf-finder-").FullName;

    private string Proc => Path.Combine(_root, "proc");

    private string HostNet => Path.Combine(_root, "sys/class/net");

    [Theory]
    [InlineData("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod6a1e2f3c_7b8d_4e9f_a0b1_c2d3e4f5a6b7.slice/cri-containerd-0f3a.scope\n")]
    [InlineData("12:memory:/kubepods/burstable/pod6a1e2f3c-7b8d-4e9f-a0b1-c2d3e4f5a6b7/4d2c9f\n0::/\n")]
    [InlineData("0::/../../kubepods-pod6a1e2f3c_7b8d_4e9f_a0b1_c2d3e4f5a6b7.slice/crio-7a.scope\n")]
    public void Reads_the_pod_uid_from_systemd_and_cgroupfs_paths(string cgroup) =>
        Assert.Equal(Uid, PodInterfaceFinder.PodUid(cgroup));

    [Theory]
    [InlineData("0::/system.slice/containerd.service\n")]
    [InlineData("0::/user.slice/podman-pod123.scope\n")]
    [InlineData("0::/kubepods.slice/kubepods-pod6a1e2f3c_7b8d_4e9f_a0b1_c2d3e4f5a6bZ.slice\n")]
    public void Finds_no_uid_outside_pod_cgroups(string cgroup) => Assert.Null(PodInterfaceFinder.PodUid(cgroup));

    [Fact]
    public void Maps_the_pods_veth_end_to_the_host_interface_pointing_back_at_it_and_forgets_it_when_it_vanishes()
    {
        HostInterface("eth0", 2, 2);
        HostInterface("cali12ab", 17, 3);
        HostInterface("veth99", 18, 3); // another pod's veth whose peer also has index 3 in its own namespace
        Process(4242, $"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{Uid.Replace('-', '_')}.slice/cri-containerd-1.scope\n",
            ("lo", 1, 1), ("eth0", 3, 17));
        Process(4243, "0::/system.slice/sshd.service\n", ("eth0", 2, 2));
        var finder = new PodInterfaceFinder(Proc, HostNet, NullLogger.Instance);

        Assert.True(finder.Update(new HashSet<string> { Uid, "11111111-2222-3333-4444-555555555555" }));
        Assert.Equal(["cali12ab"], finder.Interfaces[Uid]);
        Assert.Single(finder.Interfaces);
        Assert.Equal(1, finder.Missing);
        Assert.False(finder.Update(new HashSet<string> { Uid }));

        // Re-created with another index: the old mapping goes, and the pod is found again.
        HostInterface("cali12ab", 21, 3);
        Process(4242, $"0::/kubepods-pod{Uid}.slice\n", ("eth0", 3, 21));
        Assert.True(finder.Update(new HashSet<string> { Uid }));
        Assert.Equal(["cali12ab"], finder.Interfaces[Uid]);

        Assert.True(finder.Update(new HashSet<string>()));
        Assert.Empty(finder.Interfaces);
        Assert.Equal(0, finder.Missing);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void HostInterface(string name, int index, int link) => Interface(HostNet, name, index, link);

    private void Process(int pid, string cgroup, params (string Name, int Index, int Link)[] interfaces)
    {
        var directory = Path.Combine(Proc, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "cgroup"), cgroup);
        var net = Path.Combine(directory, "root", HostNet.TrimStart('/'));
        foreach (var (name, index, link) in interfaces)
        {
            Interface(net, name, index, link);
        }
    }

    private static void Interface(string net, string name, int index, int link)
    {
        var directory = Path.Combine(net, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "ifindex"), $"{index}\n");
        File.WriteAllText(Path.Combine(directory, "iflink"), $"{link}\n");
    }
}
