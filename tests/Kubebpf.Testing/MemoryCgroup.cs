using System.Globalization;

namespace Kubebpf.Testing;

/// <summary>
/// A memory cgroup for one process under test, with a limit, reporting the peak it used: cgroup v2 (<c>memory.max</c>,
/// <c>memory.peak</c>) where the unified hierarchy has the memory controller, else v1 (<c>memory.limit_in_bytes</c>,
/// <c>memory.max_usage_in_bytes</c>), created next to the test's own cgroup. Needs root; removed on dispose.
/// </summary>
public sealed class MemoryCgroup : IDisposable
{
    private readonly string _path;
    private readonly bool _v2;

    private MemoryCgroup(string path, bool v2)
    {
        _path = path;
        _v2 = v2;
    }

    /// <summary>Creates the cgroup <paramref name="name"/> with <paramref name="limitBytes"/> as its hard limit.</summary>
    public static MemoryCgroup Create(string name, long limitBytes)
    {
        var lines = File.ReadAllLines("/proc/self/cgroup");
        var v1 = lines.Select(l => l.Split(':', 3)).FirstOrDefault(p => p[1].Split(',').Contains("memory"));
        var cgroup = v1 is not null
            ? new MemoryCgroup(System.IO.Path.Combine("/sys/fs/cgroup/memory" + v1[2], name), v2: false)
            : new MemoryCgroup(System.IO.Path.Combine("/sys/fs/cgroup" + lines.Single(l => l.StartsWith("0::", StringComparison.Ordinal))[3..], name), v2: true);
        Directory.CreateDirectory(cgroup._path);
        if (cgroup._v2)
        {
            cgroup.Write("memory.max", limitBytes);
            cgroup.Write("memory.swap.max", 0);
        }
        else
        {
            cgroup.Write("memory.limit_in_bytes", limitBytes);
        }

        return cgroup;
    }

    /// <summary>The most memory the cgroup's processes used at once.</summary>
    public long PeakBytes => Read(_v2 ? "memory.peak" : "memory.max_usage_in_bytes");

    /// <summary>How many times an allocation hit the limit (v1's <c>memory.failcnt</c>, v2's <c>max</c> event).</summary>
    public long FailCount => _v2
        ? long.Parse(File.ReadLines(System.IO.Path.Combine(_path, "memory.events")).Single(l => l.StartsWith("max ", StringComparison.Ordinal))[4..], CultureInfo.InvariantCulture)
        : Read("memory.failcnt");

    /// <summary>The cgroup's folder: start a process in it with <c>AgentProcess.Start(..., cgroup)</c>.</summary>
    public string Path => _path;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_path); // only once its processes are gone; a leftover empty cgroup costs nothing
        }
        catch (IOException)
        {
        }
    }

    private void Write(string file, long value) => File.WriteAllText(System.IO.Path.Combine(_path, file), value.ToString(CultureInfo.InvariantCulture));

    private long Read(string file) => long.Parse(File.ReadAllText(System.IO.Path.Combine(_path, file)).Trim(), CultureInfo.InvariantCulture);
}
