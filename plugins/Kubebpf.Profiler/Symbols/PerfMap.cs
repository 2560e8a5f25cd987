using System.Globalization;
using System.Text;

namespace Kubebpf.Profiler.Symbols;

/// <summary>
/// A JIT perf map (<c>/tmp/perf-&lt;pid&gt;.map</c>: lines of <c>START SIZE name</c> in hex), as .NET
/// (<c>DOTNET_PerfMapEnabled</c>), Node (<c>--perf-basic-prof</c>) and Python 3.12+ (<c>-X perf</c>) write it while
/// they run. <see cref="Refresh"/> reads only what was appended since the last call, and leaves a line still being
/// written for the next one. Bounded to <c>maxEntries</c>; what does not fit is counted in <see cref="Dropped"/>.
/// </summary>
internal sealed class PerfMap(string path, int maxEntries)
{
    private readonly List<(ulong Start, ulong Size, string Name)> _entries = [];
    private long _readTo;
    private SymbolTable _table = SymbolTable.Empty;

    /// <summary>Entries not kept because the map reached its bound, and lines that did not parse.</summary>
    public long Dropped { get; private set; }

    /// <summary>Entries kept.</summary>
    public int Count => _entries.Count;

    /// <summary>Reads what was appended; a file that shrank (the process was replaced) is read again from the start.</summary>
    public void Refresh()
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (file.Length < _readTo)
            {
                _entries.Clear();
                _readTo = 0;
            }

            if (file.Length == _readTo)
            {
                return;
            }

            file.Position = _readTo;
            var bytes = new byte[file.Length - _readTo];
            file.ReadExactly(bytes);
            var complete = bytes.AsSpan().LastIndexOf((byte)'\n') + 1; // a partial last line waits for its end
            foreach (var line in Encoding.UTF8.GetString(bytes, 0, complete).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Add(line);
            }

            _readTo += complete;
            _table = new SymbolTable([.. _entries]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No map (yet), or the process is gone: keep what was read.
        }
    }

    /// <summary>The JIT method at <paramref name="address"/>, or null.</summary>
    public string? Find(ulong address) => _table.Find(address);

    private void Add(string line)
    {
        var parts = line.Split(' ', 3);
        if (parts.Length < 3 || !Hex(parts[0], out var start) || !Hex(parts[1], out var size) || size == 0)
        {
            Dropped++;
            return;
        }

        if (_entries.Count >= maxEntries)
        {
            Dropped++;
            return;
        }

        _entries.Add((start, size, parts[2].TrimEnd('\r')));
    }

    private static bool Hex(string text, out ulong value) =>
        ulong.TryParse(text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}
