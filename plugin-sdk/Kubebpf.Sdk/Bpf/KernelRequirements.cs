using System.Globalization;
using System.Runtime.InteropServices;

namespace Kubebpf.Sdk.Bpf;

/// <summary>
/// What a probe needs from the kernel, the mounts and the process's capabilities beyond loading eBPF programs
/// (CAP_BPF, the memlock limit and a <c>bpf()</c> syscall that seccomp lets through: always checked).
/// </summary>
[Flags]
public enum KernelFeatures
{
    /// <summary>Loading eBPF programs and maps only.</summary>
    None = 0,

    /// <summary>Kernel BTF at <c>/sys/kernel/btf/vmlinux</c> (CO-RE, tp_btf).</summary>
    Btf = 1,

    /// <summary>bpffs at <c>/sys/fs/bpf</c> (pinning).</summary>
    BpfFs = 2,

    /// <summary>tracefs at <c>/sys/kernel/tracing</c> (tracepoints, uprobes); attaching them needs CAP_PERFMON too.</summary>
    TraceFs = 4,

    /// <summary>AF_PACKET raw sockets (socket filters): CAP_NET_RAW.</summary>
    RawSockets = 8,

    /// <summary>perf events (CPU sampling, perf_event programs): CAP_PERFMON.</summary>
    PerfEvents = 16,

    /// <summary>tc clsact filters (sched_cls programs, <see cref="TcFilter"/>): CAP_NET_ADMIN.</summary>
    TrafficControl = 32,
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
/// Checks, and where it can fixes, what loading eBPF programs needs: the effective capabilities, the memlock limit,
/// the <c>bpf()</c> syscall itself (a container's seccomp profile may refuse it whatever the capabilities), kernel BTF,
/// bpffs and tracefs (mounted when missing and CAP_SYS_ADMIN is held). Call it once at start-up, from any thread.
/// </summary>
public static unsafe class KernelRequirements
{
    private const string BtfPath = "/sys/kernel/btf/vmlinux";
    private const string BpfFsPath = "/sys/fs/bpf";
    private const string TraceFsPath = "/sys/kernel/tracing";

    /// <summary>Runs the checks for <paramref name="features"/>, mounting missing filesystems when <paramref name="mountMissing"/>.</summary>
    public static KernelRequirementsReport Check(KernelFeatures features, bool mountMissing = true)
    {
        var capabilities = Capabilities.Effective();
        var checks = new List<KernelCheck> { CheckPrivileges(features, capabilities), RaiseMemlock(), CheckBpfSyscall(capabilities) };
        if (features.HasFlag(KernelFeatures.Btf))
        {
            checks.Add(File.Exists(BtfPath)
                ? new KernelCheck("btf", true, BtfPath)
                : new KernelCheck("btf", false, $"{BtfPath} is missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y"));
        }

        if (features.HasFlag(KernelFeatures.BpfFs))
        {
            checks.Add(EnsureMounted("bpffs", "bpf", BpfFsPath, mountMissing, capabilities));
        }

        if (features.HasFlag(KernelFeatures.TraceFs))
        {
            checks.Add(EnsureMounted("tracefs", "tracefs", TraceFsPath, mountMissing, capabilities));
        }

        return new KernelRequirementsReport(checks);
    }

    /// <summary>
    /// The capabilities <paramref name="features"/> need, checked in the effective set (being uid 0 says nothing in a
    /// container that dropped capabilities). CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, as in the kernel.
    /// </summary>
    internal static KernelCheck CheckPrivileges(KernelFeatures features, Capabilities held)
    {
        var needed = new List<(Capability Cap, string Why)> { (Capability.Bpf, "eBPF programs and maps") };
        if (features.HasFlag(KernelFeatures.RawSockets))
        {
            needed.Add((Capability.NetRaw, "AF_PACKET sockets"));
        }

        if (features.HasFlag(KernelFeatures.TrafficControl))
        {
            needed.Add((Capability.NetAdmin, "tc filters"));
        }

        if (features.HasFlag(KernelFeatures.PerfEvents) || features.HasFlag(KernelFeatures.TraceFs))
        {
            needed.Add((Capability.Perfmon, features.HasFlag(KernelFeatures.PerfEvents) ? "perf events" : "tracepoints"));
        }

        var missing = needed.Where(n => !held.Allows(n.Cap)).ToList();
        if (missing.Count > 0)
        {
            return new KernelCheck("privileges", false,
                $"missing {string.Join(", ", missing.Select(m => $"{Capabilities.Name(m.Cap)} ({m.Why})"))} in the effective capabilities ({held}): " +
                "run as root, or grant them (a container's securityContext.capabilities.add, without the CAP_ prefix)");
        }

        return new KernelCheck("privileges", true, $"{string.Join(", ", needed.Select(n => Capabilities.Name(n.Cap)))} held (effective: {held})");
    }

    /// <summary>
    /// Creates and closes a one-entry array map: the cheapest <c>bpf()</c> call. With the capabilities held, EPERM
    /// there means a seccomp filter refused the syscall (the default profiles of container runtimes may).
    /// </summary>
    private static KernelCheck CheckBpfSyscall(Capabilities held)
    {
        var fd = LibBpf.bpf_map_create(LibBpf.BPF_MAP_TYPE_ARRAY, null, sizeof(uint), sizeof(uint), 1, null);
        if (fd >= 0)
        {
            LibC.close(fd);
            return new KernelCheck("bpf syscall", true, "allowed");
        }

        var errno = Errno.Name(-fd);
        if (!held.Allows(Capability.Bpf))
        {
            return new KernelCheck("bpf syscall", false, $"refused ({errno}) without CAP_BPF: see privileges");
        }

        var seccomp = SeccompMode();
        return new KernelCheck("bpf syscall", false, seccomp == 2
            ? $"refused ({errno}) although CAP_BPF is held: this process runs under a seccomp filter that refuses bpf() " +
              "(the default profiles of container runtimes may). Run it with seccomp unconfined (Kubernetes: " +
              "securityContext.seccompProfile.type: Unconfined; podman and docker: --security-opt seccomp=unconfined) " +
              "or with a profile that allows bpf and perf_event_open"
            : $"refused ({errno}) although CAP_BPF is held and no seccomp filter applies: a Linux security module " +
              "(SELinux, AppArmor, lockdown) may deny it; see the kernel log");
    }

    /// <summary>The <c>Seccomp</c> line of <c>/proc/self/status</c>: 0 none, 1 strict, 2 filter.</summary>
    private static int SeccompMode() =>
        File.ReadLines("/proc/self/status").Where(l => l.StartsWith("Seccomp:", StringComparison.Ordinal))
            .Select(l => int.Parse(l.AsSpan("Seccomp:".Length).Trim(), CultureInfo.InvariantCulture))
            .FirstOrDefault();

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

    private static KernelCheck EnsureMounted(string name, string fsType, string path, bool mountMissing, Capabilities held)
    {
        if (IsMounted(fsType, path))
        {
            return new KernelCheck(name, true, $"mounted at {path}");
        }

        var command = $"mount -t {fsType} {fsType} {path}";
        if (!mountMissing || !held.Allows(Capability.SysAdmin))
        {
            return new KernelCheck(name, false, $"not mounted at {path}: run {command}, or mount it into the container");
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
