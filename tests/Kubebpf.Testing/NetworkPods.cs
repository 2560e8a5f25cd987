using System.Diagnostics;
using System.Text;

namespace Kubebpf.Testing;

/// <summary>
/// Network-namespace "pods" on a Linux bridge, as a Kubernetes node sees them: each pod has its own namespace,
/// an <c>eth0</c> with an IPv4 and an IPv6 address, and a host-side veth enslaved to the bridge. Names and subnets
/// are unique per instance, so parallel test classes do not collide. Needs root and iproute2. Dispose tears
/// everything down (processes started in the pods, namespaces, veths, bridge), also after a failed setup.
/// </summary>
public sealed class NetworkPods : IDisposable
{
    private static int _instances;
    private readonly List<Process> _processes = [];
    private readonly List<Pod> _pods = [];
    private bool _disposed;

    private NetworkPods(string prefix, int subnet)
    {
        Prefix = prefix;
        Subnet = subnet;
    }

    /// <summary>The name prefix of every namespace and interface of this instance (&lt;= 8 characters).</summary>
    public string Prefix { get; }

    /// <summary>The third octet of the IPv4 subnet <c>10.213.&lt;Subnet&gt;.0/24</c>, also used in <c>fd00:213:&lt;Subnet&gt;::/64</c>.</summary>
    public int Subnet { get; }

    /// <summary>The bridge's name.</summary>
    public string Bridge => Prefix + "br";

    /// <summary>The pods, in creation order (pod i has host number i + 1).</summary>
    public IReadOnlyList<Pod> Pods => _pods;

    /// <summary>Creates <paramref name="count"/> pods on a fresh bridge.</summary>
    public static NetworkPods Create(int count = 2)
    {
        if (Run("id", ["-u"]).Output.Trim() != "0")
        {
            throw new InvalidOperationException("NetworkPods needs root (network namespaces, veths, a bridge): run the kernel tests as root.");
        }

        var instance = Interlocked.Increment(ref _instances);
        var prefix = $"kt{Environment.ProcessId % 0xfff:x3}{instance % 0xff:x2}";
        var pods = new NetworkPods(prefix, FreeSubnet(instance));
        try
        {
            pods.Setup(count);
            return pods;
        }
        catch
        {
            pods.Dispose();
            throw;
        }
    }

    /// <summary>Starts a process inside a pod; it is killed on <see cref="Dispose"/>.</summary>
    public Process Start(Pod pod, string fileName, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["netns", "exec", pod.Namespace, fileName, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName} in {pod.Namespace}.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    /// <summary>
    /// Gives <paramref name="pod"/> its own <c>resolv.conf</c>: <c>ip netns exec</c> bind-mounts
    /// <c>/etc/netns/&lt;namespace&gt;/resolv.conf</c> over <c>/etc/resolv.conf</c> for the processes it starts (so do
    /// <see cref="Start"/> and <see cref="Exec"/>). Removed on <see cref="Dispose"/>.
    /// </summary>
    public void WriteResolvConf(Pod pod, string text)
    {
        ArgumentNullException.ThrowIfNull(pod);
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(NetnsEtc(pod)).FullName, "resolv.conf"), text);
    }

    /// <summary>Runs a command inside a pod and returns its exit code and output; throws when it fails and <paramref name="check"/>.</summary>
    public static CommandResult Exec(Pod pod, string command, bool check = true)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return Run("ip", ["netns", "exec", pod.Namespace, "sh", "-c", command], check);
    }

    /// <summary>Kills the processes started in the pods and deletes the namespaces, veths and bridge.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }

            process.Dispose();
        }

        // Deleting a namespace deletes its end of each veth, and with it the host end.
        foreach (var pod in _pods)
        {
            Run("ip", ["netns", "del", pod.Namespace], check: false);
            if (Directory.Exists(NetnsEtc(pod)))
            {
                Directory.Delete(NetnsEtc(pod), recursive: true);
            }
        }

        Run("ip", ["link", "del", Bridge], check: false);
    }

    private void Setup(int count)
    {
        Ip("link", "add", Bridge, "type", "bridge");
        Ip("link", "set", Bridge, "up");
        for (var i = 0; i < count; i++)
        {
            var pod = new Pod(
                $"{Prefix}-pod{i}",
                $"{Prefix}h{i}",
                $"10.213.{Subnet}.{i + 1}",
                $"fd00:213:{Subnet:x}::{i + 1:x}");
            _pods.Add(pod);
            var peer = $"{Prefix}p{i}";
            Ip("netns", "add", pod.Namespace);
            Ip("link", "add", pod.HostInterface, "type", "veth", "peer", "name", peer);
            Ip("link", "set", peer, "netns", pod.Namespace);
            Ip("link", "set", pod.HostInterface, "master", Bridge, "up");
            InPod(pod, "link", "set", "lo", "up");
            InPod(pod, "link", "set", peer, "name", "eth0");
            InPod(pod, "addr", "add", $"{pod.IPv4}/24", "dev", "eth0");
            InPod(pod, "addr", "add", $"{pod.IPv6}/64", "dev", "eth0", "nodad");
            InPod(pod, "link", "set", "eth0", "up");
        }
    }

    private static string NetnsEtc(Pod pod) => Path.Combine("/etc/netns", pod.Namespace);

    private static void Ip(params string[] arguments) => Run("ip", arguments);

    private static void InPod(Pod pod, params string[] arguments) => Run("ip", ["-n", pod.Namespace, .. arguments]);

    private static int FreeSubnet(int instance)
    {
        // One `ip -n` per named namespace rather than `ip -all netns exec`: when a namespace is deleted while that walks the
        // list (another test's teardown), its forked child goes on walking the list itself, and nested walks hung for minutes.
        var namespaces = Directory.Exists("/run/netns") ? Directory.GetFiles("/run/netns").Select(Path.GetFileName) : [];
        var used = string.Concat(namespaces.Select(name => Run("ip", ["-n", name!, "-o", "addr"], check: false).Output).Prepend(Run("ip", ["-o", "addr"], check: false).Output));
        var start = (Environment.ProcessId * 7 + instance * 13) % 250;
        for (var i = 0; i < 250; i++)
        {
            var candidate = (start + i) % 250 + 1;
            if (!used.Contains($"10.213.{candidate}.", StringComparison.Ordinal))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No free 10.213.x.0/24 subnet.");
    }

    private static CommandResult Run(string fileName, string[] arguments, bool check = true)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var error = new StringBuilder();
        process.ErrorDataReceived += (_, e) => error.AppendLine(e.Data);
        process.BeginErrorReadLine();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var result = new CommandResult(process.ExitCode, output, error.ToString());
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{fileName} {string.Join(' ', arguments)}' exited with {result.ExitCode}: {result.Error.Trim()}");
        }

        return result;
    }
}

/// <summary>A pod of <see cref="NetworkPods"/>.</summary>
/// <param name="Namespace">The network namespace name (for <c>ip netns exec</c>).</param>
/// <param name="HostInterface">The host-side veth: where a node agent sees the pod's traffic.</param>
/// <param name="IPv4">The pod's IPv4 address.</param>
/// <param name="IPv6">The pod's IPv6 address.</param>
public sealed record Pod(string Namespace, string HostInterface, string IPv4, string IPv6);

/// <summary>The outcome of a command.</summary>
public sealed record CommandResult(int ExitCode, string Output, string Error);
