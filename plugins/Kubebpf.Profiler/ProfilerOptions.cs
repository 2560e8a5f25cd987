using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Profiler;

/// <summary>Configuration of the CPU profiler (binds from the plugin's configuration section).</summary>
public sealed class ProfilerOptions : IValidatedOptions
{
    /// <summary>Samples per second on each CPU. 99 by default: not a divisor of the kernel's timer rates, so sampling does not run in lock-step with timer-driven work.</summary>
    public int Frequency { get; set; } = 99;

    /// <summary>The profile window: how often the flame-graph rows of each pod are written (and the files rewritten).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the kernel's counts are read, symbolised and cleared; at most <see cref="Interval"/>. Shorter keeps the symbols of short-lived processes.</summary>
    public TimeSpan ReadInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Show kernel frames above the user frames.</summary>
    public bool KernelStacks { get; set; } = true;

    /// <summary>Distinct (process, cgroup, stack pair) entries the kernel counts per read; samples past it are lost and counted (<c>counts_full</c>).</summary>
    public int MaxKernelEntries { get; set; } = 16384;

    /// <summary>Distinct stacks the kernel stores per read; past it a sample keeps its count but loses its frames (<c>stacks_full</c>).</summary>
    public int MaxKernelStacks { get; set; } = 16384;

    /// <summary>Distinct stacks kept per pod and window; samples of further stacks go to <c>[other]</c> (<c>folded_samples</c>).</summary>
    public int MaxStacksPerPod { get; set; } = 20000;

    /// <summary>Stacks written per pod and window, those with the most samples; the rest are written as one <c>[other]</c> frame.</summary>
    public int TopStacks { get; set; } = 500;

    /// <summary>Functions written per pod and window to <c>cpu_profile_functions</c>, those with the most self samples.</summary>
    public int TopFunctions { get; set; } = 50;

    /// <summary>Processes whose memory maps and perf maps are cached.</summary>
    public int MaxProcesses { get; set; } = 4096;

    /// <summary>Binaries and libraries whose symbol tables are cached.</summary>
    public int MaxModules { get; set; } = 128;

    /// <summary>JIT perf-map entries kept per process.</summary>
    public int MaxPerfMapEntries { get; set; } = 1_000_000;

    /// <summary>Namespace patterns (<c>*</c>, <c>?</c>) to profile; empty: all. The node's own processes have the empty namespace.</summary>
    public string[] Namespaces { get; set; } = [];

    /// <summary>Pod patterns to profile; empty: all. The node's own processes are the pod <c>host</c>.</summary>
    public string[] Pods { get; set; } = [];

    /// <summary>Process command-name patterns to profile; empty: all.</summary>
    public string[] Processes { get; set; } = [];

    /// <summary>If set, an SVG flame graph of everything profiled since the start, rewritten every <see cref="Interval"/> and at stop.</summary>
    public string? SvgFile { get; set; }

    /// <summary>If set, the same profile as collapsed stacks (<c>frame;frame;frame count</c> lines, for flamegraph.pl, speedscope, Pyroscope).</summary>
    public string? CollapsedFile { get; set; }

    /// <inheritdoc/>
    public IEnumerable<string> Validate()
    {
        if (Frequency is < 1 or > 10_000)
        {
            yield return $"{nameof(Frequency)} must lie between 1 and 10000 Hz, not {Frequency}.";
        }

        if (Interval < TimeSpan.FromSeconds(1))
        {
            yield return $"{nameof(Interval)} must be at least one second, not {Interval}.";
        }

        if (ReadInterval <= TimeSpan.Zero || ReadInterval > Interval)
        {
            yield return $"{nameof(ReadInterval)} must be positive and at most {nameof(Interval)} ({Interval}), not {ReadInterval}.";
        }

        foreach (var (name, value) in new[]
        {
            (nameof(MaxKernelEntries), MaxKernelEntries), (nameof(MaxKernelStacks), MaxKernelStacks), (nameof(MaxStacksPerPod), MaxStacksPerPod),
            (nameof(TopStacks), TopStacks), (nameof(TopFunctions), TopFunctions), (nameof(MaxProcesses), MaxProcesses),
            (nameof(MaxModules), MaxModules), (nameof(MaxPerfMapEntries), MaxPerfMapEntries),
        })
        {
            if (value < 1)
            {
                yield return $"{name} must be at least 1, not {value}.";
            }
        }
    }
}
