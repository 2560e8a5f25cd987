using System.Runtime.InteropServices;
using System.Text;
using Kubebpf.Sdk.Bpf;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Profiler.Sampling;

/// <summary>
/// Owns <c>profile.bpf.o</c>: one cpu-clock perf event per online CPU with the program attached, and the
/// double-buffered counts and stacks maps. <see cref="Drain"/> flips the active buffer and empties the other one
/// while sampling goes on. Not thread-safe: one thread drains.
/// </summary>
internal sealed class StackSampler : IDisposable
{
    private const string ObjectResourceName = "profile.bpf.o";
    private readonly BpfObject _object;
    private readonly List<BpfLink> _links = [];
    private readonly BpfMap _control;
    private readonly BpfMap _counters;
    private readonly BpfMap[] _counts;
    private readonly BpfMap[] _stacks;
    private uint _active;

    /// <summary>Loads the program and starts sampling every online CPU at <paramref name="frequencyHz"/>.</summary>
    /// <exception cref="BpfException">Loading failed, or no CPU could be sampled.</exception>
    public StackSampler(int frequencyHz, uint maxKeys, uint maxStacks, ILogger logger)
    {
        _object = BpfObject.OpenMemory(LoadObject(), "profile", logger);
        try
        {
            foreach (var name in new[] { "counts_0", "counts_1" })
            {
                _object.SetMaxEntries(name, maxKeys);
            }

            foreach (var name in new[] { "stacks_0", "stacks_1" })
            {
                _object.SetMaxEntries(name, maxStacks);
            }

            _object.Load();
            _control = _object.Map("control");
            _counters = _object.Map("counters");
            _counts = [_object.Map("counts_0"), _object.Map("counts_1")];
            _stacks = [_object.Map("stacks_0"), _object.Map("stacks_1")];
            Attach(frequencyHz, logger);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The CPUs being sampled.</summary>
    public int SampledCpus => _links.Count;

    /// <summary>Kernel counter <paramref name="index"/> (see <see cref="ProfileAbi"/>), summed over CPUs; cumulative.</summary>
    public ulong Counter(uint index) => _counters.SumPerCpu(index);

    /// <summary>
    /// Makes the other buffer active, then reads and deletes every entry of the one that was active. A sample that
    /// still lands in the old buffer after the flip is read by the drain after next, never lost.
    /// </summary>
    public List<StackSample> Drain()
    {
        var old = _active;
        _active ^= 1;
        var index = 0u;
        _control.Update(MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in index)), MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in _active)));
        return Read(_counts[old], _stacks[old]);
    }

    public void Dispose()
    {
        foreach (var link in _links)
        {
            link.Dispose();
        }

        _links.Clear();
        _object.Dispose();
    }

    private static unsafe List<StackSample> Read(BpfMap counts, BpfMap stacks)
    {
        // Keys first, then one atomic read-and-delete each: entries added meanwhile stay for the next drain.
        var keys = new List<ProfileKey>();
        ProfileKey key = default, next = default;
        var keyBytes = MemoryMarshal.AsBytes(new Span<ProfileKey>(ref key));
        var nextBytes = MemoryMarshal.AsBytes(new Span<ProfileKey>(ref next));
        for (var more = counts.GetNextKey([], nextBytes); more; more = counts.GetNextKey(keyBytes, nextBytes))
        {
            keys.Add(next);
            key = next;
        }

        var stackCache = new Dictionary<ulong, ulong[]?>();
        var samples = new List<StackSample>(keys.Count);
        ProfileCount value = default;
        foreach (var k in keys)
        {
            var current = k;
            if (!counts.LookupAndDelete(MemoryMarshal.AsBytes(new ReadOnlySpan<ProfileKey>(in current)), MemoryMarshal.AsBytes(new Span<ProfileCount>(ref value))))
            {
                continue;
            }

            var kernel = Frames(stacks, stackCache, current.KernelStack);
            var user = Frames(stacks, stackCache, current.UserStack);
            var comm = Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(value.Comm));
            samples.Add(new StackSample((int)current.Pid, current.CgroupId, comm, kernel ?? [], user ?? [], (long)value.Samples,
                StackLost: kernel is null || user is null));
        }

        // The stacks go once every key naming them is read; a key that arrives later names them again (NOEXIST re-adds).
        foreach (var hash in stackCache.Keys)
        {
            stacks.Delete(MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(in hash)));
        }

        return samples;
    }

    /// <summary>The frames of stack <paramref name="hash"/>: empty for 0 (no stack), null when it was not stored.</summary>
    private static ulong[]? Frames(BpfMap stacks, Dictionary<ulong, ulong[]?> cache, ulong hash)
    {
        if (hash == 0)
        {
            return [];
        }

        if (cache.TryGetValue(hash, out var frames))
        {
            return frames;
        }

        Span<byte> raw = stackalloc byte[ProfileAbi.StackSize];
        if (stacks.Lookup(MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(in hash)), raw))
        {
            var depth = Math.Min(MemoryMarshal.Read<uint>(raw), ProfileAbi.MaxDepth);
            frames = MemoryMarshal.Cast<byte, ulong>(raw[8..])[..(int)depth].ToArray();
        }

        cache[hash] = frames;
        return frames;
    }

    private void Attach(int frequencyHz, ILogger logger)
    {
        var program = _object.Program("sample");
        foreach (var cpu in PerfEvents.OnlineCpus())
        {
            var fd = PerfEvents.OpenCpuClock(cpu, frequencyHz);
            if (fd < 0)
            {
                logger.LogWarning("CPU {Cpu} is not sampled: perf_event_open failed ({Errno})", cpu, Marshal.GetPInvokeErrorMessage(-fd));
                continue;
            }

            try
            {
                _links.Add(program.AttachPerfEvent(fd));
            }
            catch
            {
                PerfEvents.Close(fd);
                throw;
            }
        }

        if (_links.Count == 0)
        {
            throw new InvalidOperationException("No CPU could be sampled: perf_event_open failed on every online CPU (needs CAP_PERFMON or root).");
        }
    }

    private static byte[] LoadObject()
    {
        using var stream = typeof(StackSampler).Assembly.GetManifestResourceStream(ObjectResourceName)
            ?? throw new InvalidOperationException($"{ObjectResourceName} is not embedded in {typeof(StackSampler).Assembly.GetName().Name}: build it with clang (see plugins/Bpf.targets).");
        var elf = new byte[stream.Length];
        stream.ReadExactly(elf);
        return elf;
    }
}
