using System.Globalization;

namespace Kubebpf.Profiler.Symbols;

/// <summary>One executable mapping of <c>/proc/&lt;pid&gt;/maps</c>.</summary>
/// <param name="Start">First address.</param>
/// <param name="End">Address past the end.</param>
/// <param name="FileOffset">Offset in the file of <paramref name="Start"/>.</param>
/// <param name="Device">Device of the file (<c>major:minor</c>, hex).</param>
/// <param name="Inode">Inode of the file; 0 for anonymous memory (JIT code).</param>
/// <param name="Path">The file path as the process sees it (without <c> (deleted)</c>), a pseudo-path such as <c>[vdso]</c>, or empty.</param>
/// <param name="Deleted">The file was deleted (or replaced) after it was mapped.</param>
internal sealed record MemoryMapping(ulong Start, ulong End, ulong FileOffset, string Device, ulong Inode, string Path, bool Deleted)
{
    /// <summary>
    /// Whether the mapping is backed by a file (not anonymous memory, a pseudo-path, or a memfd such as the one .NET's
    /// W^X double mapping puts its JIT code in: <c>/memfd:doublemapper</c>).
    /// </summary>
    public bool IsFile => Inode != 0 && Path.StartsWith('/') && !Path.StartsWith("/memfd:", StringComparison.Ordinal);

    /// <summary>The module name shown for unresolved frames: the file name, or the pseudo-path.</summary>
    public string ModuleName => Path.Length == 0 ? "[anon]" : IsFile ? System.IO.Path.GetFileName(Path) : Path.TrimStart('/');
}

/// <summary>The executable mappings of one process, sorted by address.</summary>
internal sealed class MemoryMap
{
    private const string DeletedSuffix = " (deleted)";
    private readonly MemoryMapping[] _mappings;

    private MemoryMap(MemoryMapping[] mappings) => _mappings = mappings;

    /// <summary>The mappings, by address.</summary>
    public IReadOnlyList<MemoryMapping> Mappings => _mappings;

    /// <summary>Parses maps text; keeps executable mappings only; lines that do not parse are skipped.</summary>
    public static MemoryMap Parse(string text)
    {
        var mappings = new List<MemoryMapping>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // 55d4c3a00000-55d4c3a01000 r-xp 00001000 08:01 1234   /usr/bin/cpuhog
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5 || fields[1].Length < 3 || fields[1][2] != 'x')
            {
                continue;
            }

            var dash = fields[0].IndexOf('-', StringComparison.Ordinal);
            if (dash < 0 || !Hex(fields[0][..dash], out var start) || !Hex(fields[0][(dash + 1)..], out var end)
                || !Hex(fields[2], out var offset) || !ulong.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
            {
                continue;
            }

            var path = fields.Length > 5 ? fields[5].Trim() : "";
            var deleted = path.EndsWith(DeletedSuffix, StringComparison.Ordinal);
            mappings.Add(new MemoryMapping(start, end, offset, fields[3], inode, deleted ? path[..^DeletedSuffix.Length] : path, deleted));
        }

        mappings.Sort((a, b) => a.Start.CompareTo(b.Start));
        return new MemoryMap([.. mappings]);
    }

    /// <summary>The mapping holding <paramref name="address"/>, or null.</summary>
    public MemoryMapping? Find(ulong address)
    {
        int low = 0, high = _mappings.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var mapping = _mappings[mid];
            if (address < mapping.Start)
            {
                high = mid - 1;
            }
            else if (address >= mapping.End)
            {
                low = mid + 1;
            }
            else
            {
                return mapping;
            }
        }

        return null;
    }

    private static bool Hex(string text, out ulong value) =>
        ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}
