using System.Diagnostics;
using Kubebpf.Testing;

namespace Kubebpf.Profiler.Tests.Workloads;

/// <summary>
/// A CPU-burning test process started in a cgroup of its own (cgroup v2), optionally pinned to one CPU. Its command name is
/// unique per test so that runs side by side never mix their samples. Disposing closes its stdin (it exits), kills it
/// if needed, and removes the cgroup.
/// </summary>
internal sealed class Workload : IDisposable
{
    private readonly Process _process;
    private readonly string _cgroup;

    private Workload(Process process, string cgroup, string command)
    {
        _process = process;
        _cgroup = cgroup;
        Command = command;
    }

    /// <summary>The command name (what <c>/proc/&lt;pid&gt;/comm</c> shows).</summary>
    public string Command { get; }

    public int Pid => _process.Id;

    /// <summary>The cgroup path, relative to the cgroup v2 mount.</summary>
    public string CgroupPath => "/" + Path.GetFileName(_cgroup);

    /// <summary>
    /// Compiles <c>Workloads/cpuhog.c</c> with <c>gcc -O1 -fno-omit-frame-pointer</c> into a fresh directory under a unique
    /// name, and returns the executable's path.
    /// </summary>
    public static string CompileCpuHog(string extraFlags = "")
    {
        var directory = Directory.CreateTempSubdirectory("kubebpf-profile-").FullName;
        var exe = Path.Combine(directory, "hog" + Guid.NewGuid().ToString("N")[..8]);
        var arguments = new List<string> { "-O1", "-fno-omit-frame-pointer" };
        arguments.AddRange(extraFlags.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        arguments.AddRange([Path.Combine(AppContext.BaseDirectory, "Workloads", "cpuhog.c"), "-o", exe]);
        KernelTest.Run("gcc", [.. arguments]);
        return exe;
    }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/> in a new cgroup, on CPU <paramref name="cpu"/> (any CPU when null).</summary>
    public static Workload Start(int? cpu, IReadOnlyDictionary<string, string>? environment, string fileName, params string[] arguments) =>
        Start(null, cpu, environment, fileName, arguments);

    /// <summary>Same, inside the network namespace <paramref name="networkNamespace"/> (a test pod) when given.</summary>
    public static Workload Start(string? networkNamespace, int? cpu, IReadOnlyDictionary<string, string>? environment, string fileName, params string[] arguments)
    {
        var cgroup = Path.Combine(CgroupRoot(), "kubebpf-profile-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(cgroup);
        // The shell moves itself into the cgroup, then becomes the workload: every instruction it runs is in there.
        // The namespace is entered after that: ip netns exec remounts /sys, hiding the cgroup mount.
        var start = new ProcessStartInfo("sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        string[] command =
        [
            "-c", "echo $$ > \"$0/cgroup.procs\" && exec \"$@\"", cgroup,
            .. networkNamespace is null ? Array.Empty<string>() : ["ip", "netns", "exec", networkNamespace],
            .. cpu is null ? Array.Empty<string>() : ["taskset", "-c", cpu.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            fileName, .. arguments,
        ];
        foreach (var argument in command)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        var name = Path.GetFileName(fileName);
        return new Workload(process, cgroup, name.Length > 15 ? name[..15] : name);
    }

    /// <summary>The next line the workload prints, or a failure after <paramref name="timeout"/>.</summary>
    public string ReadLine(TimeSpan timeout)
    {
        var line = _process.StandardOutput.ReadLineAsync();
        Assert.True(line.Wait(timeout), $"{Command} printed nothing within {timeout.TotalSeconds} s: {(_process.HasExited ? _process.StandardError.ReadToEnd() : "still running")}");
        return line.Result ?? throw new InvalidOperationException($"{Command} exited: {_process.StandardError.ReadToEnd()}");
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
        finally
        {
            _process.Dispose();
            Poll.Until(() => TryRemove(_cgroup), $"cgroup {_cgroup} to empty");
        }
    }

    /// <summary>The cgroup v2 mount: <c>/sys/fs/cgroup</c>, or <c>/sys/fs/cgroup/unified</c> on hybrid hosts.</summary>
    private static string CgroupRoot() =>
        File.ReadLines("/proc/self/mounts").Select(l => l.Split(' ')).First(f => f.Length > 2 && f[2] == "cgroup2")[1];

    private static bool TryRemove(string cgroup)
    {
        try
        {
            Directory.Delete(cgroup);
            return true;
        }
        catch (IOException)
        {
            return false; // still has a process being reaped
        }
    }
}
