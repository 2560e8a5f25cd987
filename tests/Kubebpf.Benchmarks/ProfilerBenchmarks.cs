using BenchmarkDotNet.Attributes;
using Kubebpf.Profiler.Attribution;
using Kubebpf.Profiler.Profiles;
using Kubebpf.Profiler.Symbols;

namespace Kubebpf.Benchmarks;

/// <summary>
/// The profiler's user-space work per read and per window: naming a frame (a binary search in a symbol table of
/// 50,000 functions, as large as libcoreclr's), folding a sample's frames into its pod's window, and turning a window
/// of 2,000 distinct stacks into flame-graph rows and top functions.
/// </summary>
[MemoryDiagnoser]
public class ProfilerBenchmarks
{
    private const int Symbols = 50_000;
    private const int Stacks = 2_000;
    private static readonly ProfileOwner Pod = new("shop", "checkout", "checkout-7d9f");
    private SymbolTable _table = null!;
    private ulong[] _addresses = [];
    private string[][] _stacks = [];
    private ProfileWindow _window = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _table = new SymbolTable([.. Enumerable.Range(0, Symbols).Select(i => (0x400000UL + ((ulong)i * 64), 48UL, $"function_{i}"))]);
        _addresses = [.. Enumerable.Range(0, 1024).Select(_ => 0x400000UL + (ulong)random.Next(Symbols * 64))];
        // Stacks of 20 frames sharing their outer half, like a service's request paths.
        _stacks = [.. Enumerable.Range(0, Stacks).Select(s => (string[])["app", .. Enumerable.Range(0, 20).Select(d => d < 10 ? $"frame_{d}" : $"frame_{d}_{s % (d * 7)}")])];
        _window = new ProfileWindow(20_000, 500, 50, "node-1");
    }

    [Benchmark(OperationsPerInvoke = 1024)]
    public int FindSymbol()
    {
        var found = 0;
        foreach (var address in _addresses)
        {
            found += _table.Find(address) is null ? 0 : 1;
        }

        return found;
    }

    [Benchmark(OperationsPerInvoke = Stacks)]
    public void FoldSamples()
    {
        foreach (var stack in _stacks)
        {
            _window.Add(Pod, stack, 3);
        }
    }

    [Benchmark]
    public int WindowToRows()
    {
        var window = new ProfileWindow(20_000, 500, 50, "node-1");
        foreach (var stack in _stacks)
        {
            window.Add(Pod, stack, 3);
        }

        return window.TakePoints(DateTimeOffset.UnixEpoch).Count;
    }
}
