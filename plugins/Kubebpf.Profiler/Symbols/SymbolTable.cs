namespace Kubebpf.Profiler.Symbols;

/// <summary>
/// Sorted address ranges with names, searched by binary search. Built once, then read-only (thread-safe).
/// A symbol without a size covers addresses up to the next symbol.
/// </summary>
internal sealed class SymbolTable
{
    private readonly ulong[] _starts;
    private readonly ulong[] _ends; // exclusive; ulong.MaxValue where the size is unknown
    private readonly string[] _names;

    /// <summary>Sorts <paramref name="symbols"/> by address; of two at one address the sized one wins.</summary>
    public SymbolTable(List<(ulong Start, ulong Size, string Name)> symbols)
    {
        symbols.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.Size.CompareTo(a.Size));
        var starts = new List<ulong>(symbols.Count);
        var ends = new List<ulong>(symbols.Count);
        var names = new List<string>(symbols.Count);
        foreach (var (start, size, name) in symbols)
        {
            if (starts.Count > 0 && starts[^1] == start)
            {
                continue;
            }

            starts.Add(start);
            ends.Add(size == 0 ? ulong.MaxValue : start + size);
            names.Add(name);
        }

        _starts = [.. starts];
        _ends = [.. ends];
        _names = [.. names];
    }

    /// <summary>An empty table.</summary>
    public static SymbolTable Empty { get; } = new([]);

    /// <summary>The number of symbols.</summary>
    public int Count => _starts.Length;

    /// <summary>The symbol covering <paramref name="address"/>, or null.</summary>
    public string? Find(ulong address)
    {
        var index = Array.BinarySearch(_starts, address);
        if (index < 0)
        {
            index = ~index - 1;
        }

        // The search found the last symbol starting at or before the address: an unsized one reaches the next start.
        return index < 0 || address >= _ends[index] ? null : _names[index];
    }
}
