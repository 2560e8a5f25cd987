using System.Globalization;
using System.Runtime.InteropServices;

namespace Kubebpf.Sdk.Bpf;

/// <summary>What a probe needs from the kernel and the mounts, beyond privileges and memlock (always checked).</summary>
[Flags]
public enum KernelFeatures
{
    /// <summary>Privileges and the memlock limit only (enough for socket filters).</summary>
    None = 0,

    /// <summary>Kernel BTF at <c>/sys/kernel/btf/vmlinux</c> (CO-RE, tp_btf).</summary>
    Btf = 1,

    /// <summary>bpffs at <c>/sys/fs/bpf</c> (pinning).</summary>
    BpfFs = 2,

    /// <summary>tracefs at <c>/sys/kernel/tracing</c> (tracepoints, uprobes).</summary>
    TraceFs = 4,
}

/// <summary>One check of <see cref="KernelRequirements"/>.</summary>
/// <param name="Name">What was checked, e.g. <c>tracefs</c>.</param>
/// <param name="Ok">Whether the requirement is met (possibly after fixing it, e.g. mounting).</param>
/// <param name="Detail">What was found or done, or the command that fixes it.</param>
public sealed record KernelCheck(string Name, bool Ok, string Detail);

/// <summary>The outcome of <see cref="KernelRequirements.Check"/>, for the host to print.</summary>
/// <param name="Checks">Every check, in order.</param>
public sealed record KernelRequirementsReport(IReadOnlyList<KernelCheck> Checks)
{
    /// <summary>True when every check passed.</summary>
    public bool AllOk => Checks.All(c => c.Ok);

    /// <summary>Throws an <see cref="InvalidOperationException"/> listing the failed checks and their remedies.</summary>
    public void ThrowIfUnmet()
    {
        if (!AllOk)
        {
            throw new InvalidOperationException("Kernel requirements not met:" + Environment.NewLine +
                string.Join(Environment.NewLine, Checks.Where(c => !c.Ok).Select(c => $"  {c.Name}: {c.Detail}")));
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Join(Environment.NewLine, Checks.Select(c => $"[{(c.Ok ? "ok" : "FAIL")}] {c.Name}: {c.Detail}"));
}

/// <summary>
/// Checks, and where it can fixes, what loading eBPF programs needs: privileges, the memlock limit, kernel BTF,
/// bpffs and tracefs (mounted when missing and running as root). Call it once at start-up, from any thread.
/// </summary>
public static unsafe class KernelRequirements
{
    private const string BtfPath = "/sys/kernel/btf/vmlinux";
    private const string BpfFsPath = "/sys/fs/bpf";
    private const string TraceFsPath = "/sys/kernel/tracing";
    private const int CapNetRaw = 13;
    private const int CapSysAdmin = 21;
    private const int CapPerfmon = 38;
    private const int CapBpf = 39;

    /// <summary>Runs the checks for <paramref name="features"/>, mounting missing filesystems when <paramref name="mountMissing"/>.</summary>
    public static KernelRequirementsReport Check(KernelFeatures features, bool mountMissing = true)
    {
        var checks = new List<KernelCheck> { CheckPrivileges(), RaiseMemlock() };
        if (features.HasFlag(KernelFeatures.Btf))
        {
            checks.Add(File.Exists(BtfPath)
                ? new KernelCheck("btf", true, BtfPath)
                : new KernelCheck("btf", false, $"{BtfPath} is missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y"));
        }

        if (features.HasFlag(KernelFeatures.BpfFs))
        {
            checks.Add(EnsureMounted("bpffs", "bpf", BpfFsPath, mountMissing));
        }

        if (features.HasFlag(KernelFeatures.TraceFs))
        {
            checks.Add(EnsureMounted("tracefs", "tracefs", TraceFsPath, mountMissing));
        }

        return new KernelRequirementsReport(checks);
    }

    private static KernelCheck CheckPrivileges()
    {
        if (LibC.geteuid() == 0)
        {
            return new KernelCheck("privileges", true, "running as root");
        }

        var effective = EffectiveCapabilities();
        var missing = new[] { (CapBpf, "CAP_BPF"), (CapPerfmon, "CAP_PERFMON"), (CapNetRaw, "CAP_NET_RAW") }
            .Where(c => (effective & (1UL << c.Item1)) == 0)
            .Select(c => c.Item2)
            .ToList();
        return missing.Count == 0
            ? new KernelCheck("privileges", true, "CAP_BPF, CAP_PERFMON and CAP_NET_RAW" + ((effective & (1UL << CapSysAdmin)) != 0 ? ", CAP_SYS_ADMIN" : ""))
            : new KernelCheck("privileges", false, $"missing {string.Join(", ", missing)}: run as root or grant CAP_BPF and CAP_PERFMON (and CAP_NET_RAW)");
    }

    private static ulong EffectiveCapabilities()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return line is null ? 0 : ulong.Parse(line.AsSpan("CapEff:".Length).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    private static KernelCheck RaiseMemlock()
    {
        var unlimited = new LibC.rlimit { rlim_cur = ulong.MaxValue, rlim_max = ulong.MaxValue };
        if (LibC.setrlimit(LibC.RLIMIT_MEMLOCK, &unlimited) == 0)
        {
            return new KernelCheck("memlock", true, "RLIMIT_MEMLOCK unlimited");
        }

        // Read errno before anything else makes a call that may overwrite it (Environment.OSVersion does).
        var errno = Errno.Name(Marshal.GetLastPInvokeError());
        // Since 5.11 the kernel charges BPF memory to the cgroup, and the memlock limit no longer applies.
        return Environment.OSVersion.Version >= new Version(5, 11)
            ? new KernelCheck("memlock", true, $"not needed: kernel {Environment.OSVersion.Version} charges BPF memory to the cgroup (raising RLIMIT_MEMLOCK failed: {errno})")
            : new KernelCheck("memlock", false, $"setrlimit(RLIMIT_MEMLOCK) failed: {errno}; run 'ulimit -l unlimited' before starting, or grant CAP_SYS_RESOURCE");
    }

    private static KernelCheck EnsureMounted(string name, string fsType, string path, bool mountMissing)
    {
        if (IsMounted(fsType, path))
        {
            return new KernelCheck(name, true, $"mounted at {path}");
        }

        var command = $"mount -t {fsType} {fsType} {path}";
        if (!mountMissing || LibC.geteuid() != 0)
        {
            return new KernelCheck(name, false, $"not mounted at {path}: run {command}");
        }

        Directory.CreateDirectory(path);
        return LibC.mount(fsType, path, fsType, 0, 0) == 0
            ? new KernelCheck(name, true, $"mounted at {path} (by the agent)")
            : new KernelCheck(name, false, $"mounting at {path} failed: {Errno.Name(Marshal.GetLastPInvokeError())}; run {command}");
    }

    private static bool IsMounted(string fsType, string path) =>
        File.ReadLines("/proc/self/mounts")
            .Select(line => line.Split(' '))
            .Any(fields => fields.Length > 2 && fields[1] == path && fields[2] == fsType);
}
