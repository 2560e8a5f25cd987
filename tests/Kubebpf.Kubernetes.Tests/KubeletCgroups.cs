namespace Kubebpf.Kubernetes.Tests;

/// <summary>
/// Pod cgroups laid out as the kubelet's systemd driver makes them (cgroup v2:
/// <c>kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod&lt;uid with underscores&gt;.slice/cri-containerd-&lt;id&gt;.scope</c>),
/// with processes moved in. Dispose moves them back to the root cgroup and removes the directories.
/// </summary>
internal sealed class KubeletCgroups : IDisposable
{
    private readonly string _root = Cgroup2Mount();
    private readonly List<string> _scopes = [];

    private string Besteffort => Path.Combine(_root, "kubepods.slice", "kubepods-besteffort.slice");

    /// <summary>Moves <paramref name="pid"/> into a container scope of the pod <paramref name="uid"/>.</summary>
    public void Add(string uid, int pid)
    {
        var scope = Path.Combine(Besteffort, $"kubepods-besteffort-pod{uid.Replace('-', '_')}.slice", $"cri-containerd-{pid:x8}.scope");
        Directory.CreateDirectory(scope);
        _scopes.Add(scope);
        File.WriteAllText(Path.Combine(scope, "cgroup.procs"), pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        foreach (var scope in _scopes)
        {
            foreach (var pid in File.ReadAllLines(Path.Combine(scope, "cgroup.procs")))
            {
                File.WriteAllText(Path.Combine(_root, "cgroup.procs"), pid);
            }

            Directory.Delete(scope);
            TryDelete(Path.GetDirectoryName(scope)!);
        }

        TryDelete(Besteffort);
        TryDelete(Path.Combine(_root, "kubepods.slice"));
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory);
        }
        catch (IOException)
        {
            // another pod's scope still lives there
        }
    }

    /// <summary>Where the cgroup v2 hierarchy is mounted (<c>/sys/fs/cgroup</c>, or <c>/sys/fs/cgroup/unified</c> on hybrid hosts).</summary>
    private static string Cgroup2Mount() =>
        File.ReadLines("/proc/self/mounts").Select(l => l.Split(' ')).FirstOrDefault(f => f.Length > 2 && f[2] == "cgroup2")?[1]
        ?? throw new InvalidOperationException("no cgroup2 hierarchy is mounted: mount -t cgroup2 none /sys/fs/cgroup/unified");
}
