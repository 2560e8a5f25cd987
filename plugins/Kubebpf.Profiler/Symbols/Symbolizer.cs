using System.Globalization;

namespace Kubebpf.Profiler.Symbols;

/// <summary>Counts of <see cref="Symbolizer"/>: what could not be named, and the bounds hit.</summary>
internal sealed class SymbolizerStats
{
    /// <summary>User frames shown as <c>module+0xoffset</c>, <c>[anon]</c> or <c>[unknown]</c>.</summary>
    public long UnresolvedUserFrames;

    /// <summary>Kernel frames shown as <c>[kernel]+0xaddress</c>.</summary>
    public long UnresolvedKernelFrames;

    /// <summary>Processes whose memory map could not be read (exited before the read): their frames stay unresolved.</summary>
    public long UnreadableProcesses;

    /// <summary>Perf-map lines dropped (malformed, or past the bound).</summary>
    public long PerfMapDropped;
}

/// <summary>
/// Names frames: kernel addresses from kallsyms, user addresses from the ELF symbols of the file mapped there (read
/// through <c>/proc/&lt;pid&gt;/map_files</c>, so deleted files and containers' files work), or from the process' JIT
/// perf map for anonymous code. Unresolved frames become <c>module+0xoffset</c>, never dropped. Processes are
/// re-read once per drain (<see cref="BeginDrain"/>), so an exec shows up at the next drain; the process and file
/// caches are bounded (least recently used evicted). Not thread-safe: the profiler's drain thread owns it.
/// </summary>
internal sealed class Symbolizer
{
    private readonly string _proc;
    private readonly Func<SymbolTable> _loadKernel;
    private readonly int _maxPerfMapEntries;
    private readonly LruCache<int, ProcessSymbols> _processes;
    private readonly LruCache<(string Device, ulong Inode, string Path), ModuleSymbols?> _modules;
    private SymbolTable? _kernel;
    private long _generation;

    public Symbolizer(int maxProcesses, int maxModules, int maxPerfMapEntries, string proc = "/proc", Func<SymbolTable>? loadKernel = null)
    {
        _proc = proc;
        _loadKernel = loadKernel ?? (() => KernelSymbols.Load(Path.Combine(proc, "kallsyms")));
        _maxPerfMapEntries = maxPerfMapEntries;
        _processes = new(maxProcesses);
        _modules = new(maxModules);
    }

    public SymbolizerStats Stats { get; } = new();

    /// <summary>Processes cached now.</summary>
    public int CachedProcesses => _processes.Count;

    /// <summary>Files cached now.</summary>
    public int CachedModules => _modules.Count;

    /// <summary>Starts a drain: every process is re-read (memory map, perf map) the first time it is asked for afterwards.</summary>
    public void BeginDrain() => _generation++;

    /// <summary>The kernel function at <paramref name="address"/>, suffixed <c>_[k]</c> as flamegraph.pl colours kernel frames.</summary>
    public string KernelFrame(ulong address)
    {
        _kernel ??= _loadKernel();
        if (_kernel.Find(address) is { } name)
        {
            return name + "_[k]";
        }

        Stats.UnresolvedKernelFrames++;
        return string.Create(CultureInfo.InvariantCulture, $"[kernel]+0x{address:x}_[k]");
    }

    /// <summary>The function of process <paramref name="pid"/> at <paramref name="address"/>.</summary>
    public string UserFrame(int pid, ulong address)
    {
        var process = Process(pid);
        if (process.PerfMap?.Find(address) is { } jitted)
        {
            return jitted;
        }

        var mapping = process.Map?.Find(address);
        if (mapping is null)
        {
            Stats.UnresolvedUserFrames++;
            return "[unknown]";
        }

        var fileOffset = address - mapping.Start + mapping.FileOffset;
        if (mapping.IsFile && Module(pid, mapping)?.Find(fileOffset) is { } name)
        {
            return name;
        }

        Stats.UnresolvedUserFrames++;
        return mapping.IsFile ? string.Create(CultureInfo.InvariantCulture, $"{mapping.ModuleName}+0x{fileOffset:x}") : mapping.ModuleName;
    }

    /// <summary>Forgets a process (it exited).</summary>
    public void Forget(int pid) => _processes.Remove(pid);

    private ProcessSymbols Process(int pid)
    {
        var process = _processes.GetOrAdd(pid, p => new ProcessSymbols(p));
        if (process.Generation != _generation)
        {
            process.Generation = _generation;
            Refresh(process);
        }

        return process;
    }

    private void Refresh(ProcessSymbols process)
    {
        var directory = Path.Combine(_proc, process.Pid.ToString(CultureInfo.InvariantCulture));
        try
        {
            process.Map = MemoryMap.Parse(File.ReadAllText(Path.Combine(directory, "maps")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Exited: keep the last map read, if any, so that its last samples still resolve.
            Stats.UnreadableProcesses++;
            return;
        }

        if (process.PerfMap is null && process.Map.Mappings.Any(m => !m.IsFile))
        {
            // Executable memory that is no file (anonymous, a memfd): JIT code, which a perf map may name.
            process.PerfMap = new PerfMap(Path.Combine(directory, "root", "tmp", $"perf-{NamespacePid(directory) ?? process.Pid}.map"), _maxPerfMapEntries);
        }

        if (process.PerfMap is { } perfMap)
        {
            var dropped = perfMap.Dropped;
            perfMap.Refresh();
            Stats.PerfMapDropped += perfMap.Dropped - dropped;
        }
    }

    private ModuleSymbols? Module(int pid, MemoryMapping mapping) =>
        _modules.GetOrAdd((mapping.Device, mapping.Inode, mapping.Path), _ =>
        {
            var directory = Path.Combine(_proc, pid.ToString(CultureInfo.InvariantCulture));
            var root = Path.Combine(directory, "root");
            // map_files reaches the very file mapped, even deleted or in another mount namespace.
            var mapped = Path.Combine(directory, "map_files", string.Create(CultureInfo.InvariantCulture, $"{mapping.Start:x}-{mapping.End:x}"));
            return ModuleSymbols.Load(mapped, mapping.Path, [root, ""])
                ?? ModuleSymbols.Load(root + mapping.Path, mapping.Path, [root, ""]);
        });

    /// <summary>The process' id in its own PID namespace (the last NSpid of its status), which names its perf map.</summary>
    private static int? NamespacePid(string directory)
    {
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(directory, "status")))
            {
                if (line.StartsWith("NSpid:", StringComparison.Ordinal))
                {
                    var last = line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[^1];
                    return int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    private sealed class ProcessSymbols(int pid)
    {
        public int Pid { get; } = pid;

        public long Generation { get; set; } = -1;

        public MemoryMap? Map { get; set; }

        public PerfMap? PerfMap { get; set; }
    }
}
