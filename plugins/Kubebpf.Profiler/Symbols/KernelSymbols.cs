using System.Globalization;

namespace Kubebpf.Profiler.Symbols;

/// <summary>Kernel function names from <c>/proc/kallsyms</c> (text symbols of the kernel and its modules).</summary>
internal static class KernelSymbols
{
    /// <summary>Parses kallsyms text. Lines that do not parse are skipped; all-zero addresses (hidden pointers) give an empty table.</summary>
    public static SymbolTable Parse(TextReader kallsyms)
    {
        var symbols = new List<(ulong, ulong, string)>();
        for (var line = kallsyms.ReadLine(); line is not null; line = kallsyms.ReadLine())
        {
            // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t nf_hook\t[nf_tables]" (a tab before the module)
            var parts = line.Split((char[])[' ', '\t'], 4, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3 || parts[1].Length != 1 || "tTwW".IndexOf(parts[1][0], StringComparison.Ordinal) < 0
                || !ulong.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var address) || address == 0)
            {
                continue;
            }

            symbols.Add((address, 0, parts[2]));
        }

        return new SymbolTable(symbols);
    }

    /// <summary>Reads <c>/proc/kallsyms</c>; an empty table when it cannot be read.</summary>
    public static SymbolTable Load(string path = "/proc/kallsyms")
    {
        try
        {
            using var reader = new StreamReader(path);
            return Parse(reader);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return SymbolTable.Empty;
        }
    }
}
