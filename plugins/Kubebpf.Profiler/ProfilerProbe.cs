using System.IO.Enumeration;
using Kubebpf.Profiler.Attribution;
using Kubebpf.Profiler.Profiles;
using Kubebpf.Profiler.Sampling;
using Kubebpf.Profiler.Symbols;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Profiler;

/// <summary>
/// Samples every CPU on its own thread: every <see cref="ProfilerOptions.ReadInterval"/> it reads and clears the
/// kernel's counts, names the frames and the pods, and folds the stacks into the window; every
/// <see cref="ProfilerOptions.Interval"/> (and once more at stop) it writes the window's flame-graph rows and top
/// functions, and rewrites the SVG and collapsed files.
/// </summary>
internal sealed partial class ProfilerProbe : IProbe, IRequiresKernelFeatures, IReportsAttachment
{
    private const string TruncatedFrame = "[truncated]";
    private const string LostStackFrame = "[stack lost]";
    private const int MaxCgroups = 65536;
    private readonly ProfilerOptions _options;
    private readonly IPointWriter _output;
    private readonly TimeProvider _time;
    private readonly ILogger<ProfilerProbe> _logger;
    private readonly Symbolizer _symbolizer;
    private readonly ProcessAttributor _attributor;
    private readonly ProfileWindow _window;
    private readonly Counter _samplesRead;
    private readonly Counter _filtered;
    private readonly Counter _truncated;
    private readonly Counter _lostStacks;
    private readonly Counter _fileErrors;
    private readonly Counter _exitedProcesses;
    // The owner of each cgroup's live processes; null once two owners share one (a host cgroup holding test "pods").
    private readonly Dictionary<ulong, ProfileOwner?> _ownerByCgroup = [];
    // Written by the probe thread, read by the flush thread's gauges: kernel counters by index, as of the last read.
    private long[] _kernel = new long[ProfileAbi.CounterCount];
    private int _sampledCpus;
    private long _lastFolded;
    private SymbolizerStats _lastStats = new();

    public ProfilerProbe(ProfilerOptions options, IWorkloadResolver resolver, IPointWriter output, IAgentMetrics metrics, TimeProvider time, ILogger<ProfilerProbe> logger)
    {
        _options = options;
        _output = output;
        _time = time;
        _logger = logger;
        _symbolizer = new Symbolizer(options.MaxProcesses, options.MaxModules, options.MaxPerfMapEntries);
        _attributor = new ProcessAttributor(resolver);
        _window = new ProfileWindow(options.MaxStacksPerPod, options.TopStacks, options.TopFunctions,
            Environment.GetEnvironmentVariable("NODE_NAME") is { Length: > 0 } node ? node : Environment.MachineName,
            keepRun: options.SvgFile is not null || options.CollapsedFile is not null);

        metrics.Gauge("samples", "samples the perf events took on all CPUs, idle included (not a loss)", () => Volatile.Read(ref _kernel)[ProfileAbi.Samples]);
        metrics.Gauge("idle_samples", "samples of idle CPUs, skipped (not a loss)", () => Volatile.Read(ref _kernel)[ProfileAbi.Idle]);
        metrics.Gauge("counts_full", "samples lost in the kernel: the counts map was full (a loss; raise MaxKernelEntries or shorten ReadInterval)", () => Volatile.Read(ref _kernel)[ProfileAbi.CountsFull]);
        metrics.Gauge("stacks_full", "stacks the kernel could not store (the map was full): the samples count under '[stack lost]' (a loss of frames)", () => Volatile.Read(ref _kernel)[ProfileAbi.StacksFull]);
        metrics.Gauge("sampled_cpus", "CPUs sampled", () => Volatile.Read(ref _sampledCpus));
        _samplesRead = metrics.Counter("samples_read", "samples read from the kernel and attributed (not a loss)");
        _filtered = metrics.Counter("filtered_samples", "samples of namespaces, pods or processes the configuration leaves out (not a loss)");
        _truncated = metrics.Counter("truncated_stacks", "samples whose user stack reached the depth limit (127 frames): outermost frames missing, shown under '[truncated]'");
        _lostStacks = metrics.Counter("lost_stacks", "samples whose stack was not stored in the kernel, shown as '[stack lost]'");
        _fileErrors = metrics.Counter("file_errors", "SVG or collapsed files that could not be written");
        _exitedProcesses = metrics.Counter("exited_processes", "processes gone before their samples were read: attributed by their cgroup, named by the kernel's command");
        metrics.Gauge("folded_samples", "samples written as '[other]' because a pod had more distinct stacks than MaxStacksPerPod or TopStacks (detail lost, count kept)", () => Volatile.Read(ref _lastFolded));
        metrics.Gauge("unresolved_user_frames", "user frames shown as module+0xoffset, [anon] or [unknown] (no symbol: stripped binary, JIT code without perf map)", () => Volatile.Read(ref _lastStats).UnresolvedUserFrames);
        metrics.Gauge("unresolved_kernel_frames", "kernel frames not in kallsyms", () => Volatile.Read(ref _lastStats).UnresolvedKernelFrames);
        metrics.Gauge("unreadable_processes", "processes that exited before their memory map was read: their frames stay unresolved", () => Volatile.Read(ref _lastStats).UnreadableProcesses);
        metrics.Gauge("perfmap_dropped", "JIT perf-map lines dropped: malformed, or past MaxPerfMapEntries", () => Volatile.Read(ref _lastStats).PerfMapDropped);
    }

    private readonly TaskCompletionSource _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>perf_event programs need privileges only: CAP_PERFMON besides CAP_BPF.</summary>
    public KernelFeatures RequiredKernelFeatures => KernelFeatures.PerfEvents;

    /// <summary>Completes once the sampler's perf events are open and its program attached on every CPU.</summary>
    public Task Attached => _attached.Task;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var sampler = new StackSampler(_options.Frequency, (uint)_options.MaxKernelEntries, (uint)_options.MaxKernelStacks, _logger);
        Volatile.Write(ref _sampledCpus, sampler.SampledCpus);
        _attached.TrySetResult();
        LogStarted(sampler.SampledCpus, _options.Frequency, _options.Interval);
        var windowStart = _time.GetUtcNow();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(_options.ReadInterval, _time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                Read(sampler);
                var now = _time.GetUtcNow();
                if (now - windowStart >= _options.Interval)
                {
                    Write(windowStart);
                    windowStart = now;
                }
            }
        }
        finally
        {
            // The last samples: read them and write the partial window, so that a short recording is complete.
            Read(sampler);
            Write(windowStart);
        }
    }

    /// <summary>Reads and clears the kernel's counts and folds them into the window.</summary>
    private void Read(StackSampler sampler)
    {
        _symbolizer.BeginDrain();
        _attributor.BeginDrain();
        var processes = new Dictionary<int, ProcessInfo>();
        foreach (var sample in sampler.Drain())
        {
            if (!processes.TryGetValue(sample.Pid, out var process))
            {
                processes[sample.Pid] = process = Describe(sample);
            }

            if (!Wanted(process))
            {
                _filtered.Add(sample.Samples);
                continue;
            }

            _window.Add(process.Owner, Frames(sample, process), sample.Samples);
            _samplesRead.Add(sample.Samples);
        }

        var kernel = new long[ProfileAbi.CounterCount];
        for (var i = 0u; i < kernel.Length; i++)
        {
            kernel[i] = (long)sampler.Counter(i);
        }

        Volatile.Write(ref _kernel, kernel);
        Volatile.Write(ref _lastStats, new SymbolizerStats
        {
            UnresolvedUserFrames = _symbolizer.Stats.UnresolvedUserFrames,
            UnresolvedKernelFrames = _symbolizer.Stats.UnresolvedKernelFrames,
            UnreadableProcesses = _symbolizer.Stats.UnreadableProcesses,
            PerfMapDropped = _symbolizer.Stats.PerfMapDropped,
        });
    }

    /// <summary>
    /// What <c>/proc</c> says of the sample's process. A process that has exited since is attributed through its
    /// cgroup id to the owner of that cgroup's live processes (a pod's processes share its cgroups), else to the host.
    /// </summary>
    private ProcessInfo Describe(StackSample sample)
    {
        var process = _attributor.Describe(sample.Pid, sample.Comm);
        if (process.Alive)
        {
            if (_ownerByCgroup.Count >= MaxCgroups && !_ownerByCgroup.ContainsKey(sample.CgroupId))
            {
                _ownerByCgroup.Clear(); // rebuilt from the live processes of the next reads
            }

            _ownerByCgroup[sample.CgroupId] = _ownerByCgroup.TryGetValue(sample.CgroupId, out var seen) && seen != process.Owner ? null : process.Owner;
            return process;
        }

        _exitedProcesses.Increment();
        return _ownerByCgroup.GetValueOrDefault(sample.CgroupId) is { } owner ? process with { Owner = owner } : process;
    }

    /// <summary>The sample's frames: the process' command, then user frames outermost first, then kernel frames.</summary>
    private List<string> Frames(StackSample sample, ProcessInfo process)
    {
        var frames = new List<string>(sample.UserFrames.Length + sample.KernelFrames.Length + 2) { process.Command };
        if (sample.StackLost)
        {
            _lostStacks.Add(sample.Samples);
            frames.Add(LostStackFrame);
        }

        if (sample.UserFrames.Length >= ProfileAbi.MaxDepth)
        {
            _truncated.Add(sample.Samples);
            frames.Add(TruncatedFrame);
        }

        for (var i = sample.UserFrames.Length - 1; i >= 0; i--)
        {
            // Return addresses point after the call: look up the call instruction itself (the innermost frame is the sampled IP).
            var address = i == 0 ? sample.UserFrames[i] : sample.UserFrames[i] - 1;
            frames.Add(_symbolizer.UserFrame(sample.Pid, address));
        }

        if (_options.KernelStacks)
        {
            for (var i = sample.KernelFrames.Length - 1; i >= 0; i--)
            {
                frames.Add(_symbolizer.KernelFrame(i == 0 ? sample.KernelFrames[i] : sample.KernelFrames[i] - 1));
            }
        }

        return frames;
    }

    private bool Wanted(ProcessInfo process) =>
        Matches(_options.Namespaces, process.Owner.Namespace) && Matches(_options.Pods, process.Owner.Pod) && Matches(_options.Processes, process.Command);

    private static bool Matches(string[] patterns, string value) =>
        patterns.Length == 0 || patterns.Any(p => FileSystemName.MatchesSimpleExpression(p, value, ignoreCase: false));

    private void Write(DateTimeOffset windowStart)
    {
        var points = _window.TakePoints(windowStart);
        if (points.Count > 0)
        {
            _output.Write(points);
        }

        Volatile.Write(ref _lastFolded, _window.FoldedSamples);
        WriteFiles();
    }

    private void WriteFiles()
    {
        if (_options.SvgFile is null && _options.CollapsedFile is null)
        {
            return;
        }

        try
        {
            if (_options.CollapsedFile is { } collapsed)
            {
                CollapsedStacks.WriteFile(_window.Run.Stacks, collapsed);
            }

            if (_options.SvgFile is { } svg)
            {
                var tree = _window.Run.Tree(ProfileWindow.RootLabel, int.MaxValue, out _);
                FlameGraphSvg.WriteFile(tree, $"CPU flame graph: {tree.Value:N0} samples at {_options.Frequency} Hz", svg);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _fileErrors.Increment();
            LogFileError(e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Profiling {Cpus} CPUs at {Frequency} Hz, flame graphs every {Interval}")]
    private partial void LogStarted(int cpus, int frequency, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot write the profile file: {Problem}")]
    private partial void LogFileError(string problem);
}
