namespace Kubebpf.Profiler.Symbols;

/// <summary>
/// The symbols of one mapped file: its layout (segments) from the file itself, its names from the file or, for a
/// stripped file, from its separate debug file (found by build id or <c>.gnu_debuglink</c>).
/// </summary>
internal sealed class ModuleSymbols
{
    private readonly ElfFile _layout;
    private readonly SymbolTable _symbols;

    private ModuleSymbols(ElfFile layout, SymbolTable symbols, string? debugFile)
    {
        _layout = layout;
        _symbols = symbols;
        DebugFile = debugFile;
    }

    /// <summary>The debug file the names came from, or null when they came from the file itself.</summary>
    public string? DebugFile { get; }

    /// <summary>The function at file offset <paramref name="fileOffset"/>, or null.</summary>
    public string? Find(ulong fileOffset) => _layout.VirtualAddress(fileOffset) is { } address ? _symbols.Find(address) : null;

    /// <summary>
    /// Reads <paramref name="path"/> (as opened through <c>/proc</c>); for a file without <c>.symtab</c>, looks for its debug file
    /// under each of <paramref name="roots"/> (the process' root, then the host's). Null when the file is not ELF.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <param name="originalPath">The file's path as the process sees it (for <c>.gnu_debuglink</c> directories).</param>
    /// <param name="roots">Filesystem roots to search debug files in, e.g. <c>/proc/123/root</c> and the empty string for the host.</param>
    public static ModuleSymbols? Load(string path, string originalPath, IReadOnlyList<string> roots)
    {
        var elf = ElfFile.TryRead(path);
        if (elf is null)
        {
            return null;
        }

        if (!elf.HasSymtab)
        {
            foreach (var candidate in DebugCandidates(elf, originalPath, roots))
            {
                if (ElfFile.TryRead(candidate) is { HasSymtab: true } debug)
                {
                    return new ModuleSymbols(elf, debug.Symbols, candidate);
                }
            }
        }

        return new ModuleSymbols(elf, elf.Symbols, null);
    }

    private static IEnumerable<string> DebugCandidates(ElfFile elf, string originalPath, IReadOnlyList<string> roots)
    {
        var directory = Path.GetDirectoryName(originalPath) ?? "/";
        foreach (var root in roots)
        {
            if (elf.BuildId is { Length: > 2 } id)
            {
                yield return $"{root}/usr/lib/debug/.build-id/{id[..2]}/{id[2..]}.debug";
            }

            if (elf.DebugLink is { } link && !link.Contains('/', StringComparison.Ordinal))
            {
                yield return $"{root}{directory}/{link}";
                yield return $"{root}{directory}/.debug/{link}";
                yield return $"{root}/usr/lib/debug{directory}/{link}";
            }
        }
    }
}
