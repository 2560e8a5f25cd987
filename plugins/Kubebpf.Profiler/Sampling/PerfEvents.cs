using System.Globalization;
using System.Runtime.InteropServices;

namespace Kubebpf.Profiler.Sampling;

/// <summary>Opens the per-CPU software cpu-clock events the profiler's program is attached to.</summary>
internal static unsafe partial class PerfEvents
{
    private const int PERF_TYPE_SOFTWARE = 1;
    private const ulong PERF_COUNT_SW_CPU_CLOCK = 0;
    private const ulong AttrDisabled = 1; // bit 0 of the flags word: libbpf enables the event once the program is attached
    private const ulong PERF_FLAG_FD_CLOEXEC = 8;

    /// <summary><c>struct perf_event_attr</c> up to <c>PERF_ATTR_SIZE_VER5</c> (112 bytes); the kernel accepts older sizes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct perf_event_attr
    {
        public uint type;
        public uint size;
        public ulong config;
        public ulong sample_period;
        public ulong sample_type;
        public ulong read_format;
        public ulong flags;
        public uint wakeup_events;
        public uint bp_type;
        public ulong config1;
        public ulong config2;
        public ulong branch_sample_type;
        public ulong sample_regs_user;
        public uint sample_stack_user;
        public int clockid;
        public ulong sample_regs_intr;
        public uint aux_watermark;
        public ushort sample_max_stack;
        public ushort reserved;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, perf_event_attr* attr, long pid, long cpu, long groupFd, ulong flags);

    [LibraryImport("libc", EntryPoint = "close")]
    internal static partial int Close(int fd);

    private static long PerfEventOpenNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 298,
        Architecture.Arm64 => 241,
        var other => throw new PlatformNotSupportedException($"perf_event_open: no syscall number known for {other}"),
    };

    /// <summary>
    /// Opens a disabled cpu-clock event on <paramref name="cpu"/> for every process, firing every
    /// 1/<paramref name="frequencyHz"/> s of that CPU's time (a fixed period in nanoseconds, not perf's frequency mode,
    /// so the rate is exact from the first sample). Returns the fd, or -errno.
    /// </summary>
    public static int OpenCpuClock(int cpu, int frequencyHz)
    {
        var attr = new perf_event_attr
        {
            type = PERF_TYPE_SOFTWARE,
            size = (uint)sizeof(perf_event_attr),
            config = PERF_COUNT_SW_CPU_CLOCK,
            sample_period = 1_000_000_000UL / (ulong)frequencyHz,
            flags = AttrDisabled,
        };
        var fd = syscall(PerfEventOpenNumber, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
        return fd >= 0 ? (int)fd : -Marshal.GetLastPInvokeError();
    }

    /// <summary>The online CPUs, from a list such as <c>0-3,8,10-11</c> (<c>/sys/devices/system/cpu/online</c>).</summary>
    public static IReadOnlyList<int> ParseCpuList(string list)
    {
        var cpus = new List<int>();
        foreach (var part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            var first = int.Parse(dash < 0 ? part : part[..dash], CultureInfo.InvariantCulture);
            var last = dash < 0 ? first : int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture);
            for (var cpu = first; cpu <= last; cpu++)
            {
                cpus.Add(cpu);
            }
        }

        return cpus;
    }

    /// <summary>The CPUs online now.</summary>
    public static IReadOnlyList<int> OnlineCpus() => ParseCpuList(File.ReadAllText("/sys/devices/system/cpu/online"));
}
