using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Kubebpf.Profiler.Symbols;

/// <summary>
/// What symbolisation needs from an ELF64 little-endian file: its loadable segments (file offset to virtual address),
/// function symbols of <c>.symtab</c> and <c>.dynsym</c>, the GNU build id and the <c>.gnu_debuglink</c> name.
/// Reads only the headers and those sections, never the whole file. Anything malformed yields <see cref="TryRead"/> null.
/// </summary>
internal sealed class ElfFile
{
    private const uint SHT_SYMTAB = 2;
    private const uint SHT_NOTE = 7;
    private const uint SHT_DYNSYM = 11;
    private const uint PT_LOAD = 1;
    private const uint NT_GNU_BUILD_ID = 3;
    private const int STT_FUNC = 2;
    private const int STT_GNU_IFUNC = 10;
    private const long MaxSectionBytes = 256L << 20;

    private ElfFile(SymbolTable symbols, (ulong Offset, ulong VirtualAddress, ulong Size)[] segments, string? buildId, string? debugLink, bool hasSymtab)
    {
        Symbols = symbols;
        Segments = segments;
        BuildId = buildId;
        DebugLink = debugLink;
        HasSymtab = hasSymtab;
    }

    /// <summary>Function symbols by virtual address (<c>.symtab</c> and <c>.dynsym</c> together).</summary>
    public SymbolTable Symbols { get; }

    /// <summary>PT_LOAD segments: file offset, virtual address, file size.</summary>
    public (ulong Offset, ulong VirtualAddress, ulong Size)[] Segments { get; }

    /// <summary>The GNU build id in hex, or null.</summary>
    public string? BuildId { get; }

    /// <summary>The debug file name <c>.gnu_debuglink</c> names, or null.</summary>
    public string? DebugLink { get; }

    /// <summary>Whether the file has a full symbol table (false for stripped files, which keep only <c>.dynsym</c>).</summary>
    public bool HasSymtab { get; }

    /// <summary>The virtual address of file offset <paramref name="fileOffset"/>, or null when no segment holds it.</summary>
    public ulong? VirtualAddress(ulong fileOffset)
    {
        foreach (var (offset, address, size) in Segments)
        {
            if (fileOffset >= offset && fileOffset < offset + size)
            {
                return fileOffset - offset + address;
            }
        }

        return null;
    }

    /// <summary>Reads <paramref name="path"/>; null when it is missing, unreadable or not an ELF64 little-endian file.</summary>
    public static ElfFile? TryRead(string path)
    {
        try
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return Read(file, RandomAccess.GetLength(file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or OverflowException or InvalidDataException)
        {
            return null;
        }
    }

    private static ElfFile? Read(SafeFileHandle file, long length)
    {
        var header = ReadAt(file, length, 0, 64);
        if (header.Length < 64 || !header.AsSpan(0, 4).SequenceEqual("\u007fELF"u8)
            || header[4] != 2 || header[5] != 1)
        {
            return null; // not ELF, not 64-bit or not little-endian
        }

        var phoff = (long)U64(header, 32);
        var shoff = (long)U64(header, 40);
        int phentsize = U16(header, 54), phnum = U16(header, 56), shentsize = U16(header, 58), shnum = U16(header, 60), shstrndx = U16(header, 62);

        var segments = new List<(ulong, ulong, ulong)>();
        if (phentsize >= 56 && phnum > 0)
        {
            var table = ReadAt(file, length, phoff, phentsize * phnum);
            for (var i = 0; i < phnum; i++)
            {
                var p = table.AsSpan(i * phentsize);
                if (U32(p, 0) == PT_LOAD)
                {
                    segments.Add((U64(p, 8), U64(p, 16), U64(p, 32)));
                }
            }
        }

        if (shentsize < 64 || shnum == 0 || shstrndx >= shnum)
        {
            return new ElfFile(SymbolTable.Empty, [.. segments], null, null, false);
        }

        var sections = ReadAt(file, length, shoff, shentsize * shnum);
        Section SectionAt(int index) => new(sections.AsSpan(index * shentsize, 64));
        var names = ReadSection(file, length, SectionAt(shstrndx));

        var symbols = new List<(ulong, ulong, string)>();
        string? buildId = null, debugLink = null;
        var hasSymtab = false;
        for (var i = 0; i < shnum; i++)
        {
            var section = SectionAt(i);
            var name = CString(names, (int)section.Name);
            if (section.Type is SHT_SYMTAB or SHT_DYNSYM && section.Link < shnum)
            {
                hasSymtab |= section.Type == SHT_SYMTAB;
                ReadSymbols(ReadSection(file, length, section), ReadSection(file, length, SectionAt((int)section.Link)), symbols);
            }
            else if (section.Type == SHT_NOTE && buildId is null)
            {
                buildId = FindBuildId(ReadSection(file, length, section));
            }
            else if (name == ".gnu_debuglink")
            {
                debugLink = CString(ReadSection(file, length, section), 0);
            }
        }

        return new ElfFile(new SymbolTable(symbols), [.. segments], buildId, string.IsNullOrEmpty(debugLink) ? null : debugLink, hasSymtab);
    }

    private static void ReadSymbols(byte[] table, byte[] strings, List<(ulong, ulong, string)> symbols)
    {
        for (var at = 0; at + 24 <= table.Length; at += 24)
        {
            var entry = table.AsSpan(at, 24);
            var type = entry[4] & 0xf;
            var value = U64(entry, 8);
            if ((type != STT_FUNC && type != STT_GNU_IFUNC) || value == 0 || U16(entry, 6) == 0)
            {
                continue; // not a function, or undefined (an import)
            }

            symbols.Add((value, U64(entry, 16), CString(strings, (int)U32(entry, 0))));
        }
    }

    private static string? FindBuildId(byte[] notes)
    {
        for (var at = 0; at + 12 <= notes.Length;)
        {
            int nameSize = (int)U32(notes, at), descSize = (int)U32(notes, at + 4);
            var type = U32(notes, at + 8);
            var descAt = at + 12 + Align4(nameSize);
            if (nameSize < 0 || descSize < 0 || descAt + descSize > notes.Length)
            {
                return null;
            }

            if (type == NT_GNU_BUILD_ID && nameSize == 4 && notes.AsSpan(at + 12, 3).SequenceEqual("GNU"u8))
            {
                return Convert.ToHexStringLower(notes, descAt, descSize);
            }

            at = descAt + Align4(descSize);
        }

        return null;
    }

    private static int Align4(int value) => (value + 3) & ~3;

    private static byte[] ReadSection(SafeFileHandle file, long length, Section section) =>
        section.Type == 8 /* SHT_NOBITS */ ? [] : ReadAt(file, length, (long)section.Offset, (long)section.Size);

    private static byte[] ReadAt(SafeFileHandle file, long length, long offset, long count)
    {
        if (offset < 0 || count < 0 || count > MaxSectionBytes || offset > length || count > length - offset)
        {
            throw new InvalidDataException("ELF structure out of bounds");
        }

        var buffer = new byte[count];
        var done = 0;
        while (done < buffer.Length)
        {
            var read = RandomAccess.Read(file, buffer.AsSpan(done), offset + done);
            if (read == 0)
            {
                throw new InvalidDataException("ELF file shorter than its headers say");
            }

            done += read;
        }

        return buffer;
    }

    private static string CString(byte[] table, int offset)
    {
        if (offset < 0 || offset >= table.Length)
        {
            return "";
        }

        var end = table.AsSpan(offset).IndexOf((byte)0);
        return Encoding.UTF8.GetString(table, offset, end < 0 ? table.Length - offset : end);
    }

    private static ushort U16(ReadOnlySpan<byte> data, int at) => BinaryPrimitives.ReadUInt16LittleEndian(data[at..]);

    private static uint U32(ReadOnlySpan<byte> data, int at) => BinaryPrimitives.ReadUInt32LittleEndian(data[at..]);

    private static ulong U64(ReadOnlySpan<byte> data, int at) => BinaryPrimitives.ReadUInt64LittleEndian(data[at..]);

    /// <summary>An Elf64_Shdr.</summary>
    private readonly struct Section(ReadOnlySpan<byte> header)
    {
        public uint Name { get; } = U32(header, 0);

        public uint Type { get; } = U32(header, 4);

        public ulong Offset { get; } = U64(header, 24);

        public ulong Size { get; } = U64(header, 32);

        public uint Link { get; } = U32(header, 40);
    }
}
