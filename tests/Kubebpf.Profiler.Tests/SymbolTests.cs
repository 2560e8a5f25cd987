using System.Globalization;
using Kubebpf.Profiler.Symbols;
using Kubebpf.Profiler.Tests.Workloads;
using Kubebpf.Testing;

namespace Kubebpf.Profiler.Tests;

public sealed class SymbolTests
{
    [Fact]
    public void A_symbol_covers_its_size_and_an_unsized_one_reaches_the_next()
    {
        var table = new SymbolTable([(0x2000, 0x10, "sized"), (0x1000, 0, "unsized"), (0x3000, 0x10, "last"), (0x1000, 0x8, "sized_twin")]);

        Assert.Equal("sized_twin", table.Find(0x1004)); // of two at one address, the sized one
        Assert.Null(table.Find(0x1800));
        Assert.Equal("sized", table.Find(0x200f));
        Assert.Null(table.Find(0x2010));
        Assert.Null(table.Find(0x0fff));
        Assert.Equal("last", table.Find(0x3000));
        Assert.Null(table.Find(0x3010));
    }

    [Fact]
    public void Kallsyms_keeps_text_symbols_and_skips_hidden_addresses()
    {
        var table = KernelSymbols.Parse(new StringReader("""
            ffffffff81000000 T _stext
            ffffffff81000100 t do_thing
            ffffffff81000200 D some_data
            ffffffffc0a01000 t nf_hook	[nf_tables]
            not a line
            """));
        var hidden = KernelSymbols.Parse(new StringReader("0000000000000000 T _stext\n0000000000000000 T other\n"));

        Assert.Equal("do_thing", table.Find(0xffffffff81000150));
        Assert.Equal("do_thing", table.Find(0xffffffff81000250)); // data is not a function: the text symbol reaches on
        Assert.Equal("nf_hook", table.Find(0xffffffffc0a01010));
        Assert.Equal(0, hidden.Count);
    }

    [Fact]
    public void Maps_keep_executable_mappings_with_deleted_files_and_anonymous_code()
    {
        var map = MemoryMap.Parse("""
            55d4c3a00000-55d4c3a01000 r--p 00000000 08:01 1234                       /usr/bin/hog
            55d4c3a01000-55d4c3a02000 r-xp 00001000 08:01 1234                       /usr/bin/hog
            7f0000000000-7f0000010000 rwxp 00000000 00:00 0 
            7f1000000000-7f1000020000 r-xp 00002000 08:01 99                         /tmp/old lib.so (deleted)
            7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
            7f2000000000-7f2000100000 r-xp 00808000 00:01 4242                       /memfd:doublemapper (deleted)
            garbage
            """);

        Assert.Equal(5, map.Mappings.Count);
        var jit = map.Find(0x7f2000000010)!;
        Assert.Equal((false, "memfd:doublemapper"), (jit.IsFile, jit.ModuleName)); // .NET's W^X JIT code: named by the perf map
        var hog = map.Find(0x55d4c3a01010)!;
        Assert.Equal(("/usr/bin/hog", 0x1000UL, "hog", true), (hog.Path, hog.FileOffset, hog.ModuleName, hog.IsFile));
        Assert.Null(map.Find(0x55d4c3a00010)); // not executable
        Assert.Equal(("[anon]", false), (map.Find(0x7f0000000010)!.ModuleName, map.Find(0x7f0000000010)!.IsFile));
        var deleted = map.Find(0x7f1000000000)!;
        Assert.Equal(("/tmp/old lib.so", true, "old lib.so"), (deleted.Path, deleted.Deleted, deleted.ModuleName));
        Assert.Equal("[vdso]", map.Find(0x7ffd00000001)!.ModuleName);
    }

    [Fact]
    public void A_perf_map_being_written_is_read_up_to_its_last_complete_line_and_bounded()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("kubebpf-perfmap-").FullName, "perf-1.map");
        File.WriteAllText(path, "1000 10 first\n2000 20 second with spaces\nzz 1 bad\n30");
        var map = new PerfMap(path, maxEntries: 3);
        map.Refresh();

        Assert.Equal(("first", "second with spaces", 2, 1L), (map.Find(0x100f), map.Find(0x2000), map.Count, map.Dropped));
        Assert.Null(map.Find(0x3000)); // "30" is still being written

        File.AppendAllText(path, "00 8 third\n4000 8 fourth\n");
        map.Refresh();
        Assert.Equal("third", map.Find(0x3004));
        Assert.Null(map.Find(0x4000)); // past the bound
        Assert.Equal((3, 2L), (map.Count, map.Dropped));
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public void Elf_symbols_match_nm_and_a_stripped_binary_finds_its_debug_file_by_build_id()
    {
        var exe = Workload.CompileCpuHog("-Wl,--build-id");
        var directory = Path.GetDirectoryName(exe)!;
        var nm = NmFunctions(exe);
        var elf = ElfFile.TryRead(exe)!;

        Assert.True(elf.HasSymtab);
        Assert.NotNull(elf.BuildId);
        foreach (var function in new[] { "main", "hot_a", "hot_b", "publish" })
        {
            Assert.Equal(function, elf.Symbols.Find(nm[function]));
            Assert.Equal(function, elf.Symbols.Find(nm[function] + 1));
        }

        // Stripped, with its symbols in <root>/usr/lib/debug/.build-id/xx/rest.debug: the names still resolve.
        var stripped = exe + "-stripped";
        var debugDirectory = Path.Combine(directory, "root", "usr", "lib", "debug", ".build-id", elf.BuildId![..2]);
        Directory.CreateDirectory(debugDirectory);
        KernelTest.Run("objcopy", "--only-keep-debug", exe, Path.Combine(debugDirectory, elf.BuildId[2..] + ".debug"));
        KernelTest.Run("strip", "-o", stripped, exe);
        var strippedElf = ElfFile.TryRead(stripped)!;
        var fileOffset = FileOffset(strippedElf, nm["hot_a"]);

        Assert.False(strippedElf.HasSymtab);
        Assert.Null(ModuleSymbols.Load(stripped, "/usr/bin/hog", [Path.Combine(directory, "nowhere")])!.Find(fileOffset));
        var withDebug = ModuleSymbols.Load(stripped, "/usr/bin/hog", [Path.Combine(directory, "root")])!;
        Assert.Equal("hot_a", withDebug.Find(fileOffset));
        Assert.NotNull(withDebug.DebugFile);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void A_stripped_binary_without_debug_file_gives_module_offsets_and_counts_them()
    {
        var exe = Workload.CompileCpuHog();
        var directory = Path.GetDirectoryName(exe)!;
        KernelTest.Run("strip", exe);
        var offset = FileOffset(ElfFile.TryRead(exe)!, 0x1000);
        var proc = FakeProc(directory, 42, $"555555554000-555555556000 r-xp 00000000 08:01 77 {exe}\n", mapFile: exe, mapName: "555555554000-555555556000");
        var symbolizer = new Symbolizer(8, 8, 100, proc, () => SymbolTable.Empty);
        symbolizer.BeginDrain();

        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(exe)}+0x{offset + 0x10:x}"), symbolizer.UserFrame(42, 0x555555554000 + offset + 0x10));
        Assert.Equal("[unknown]", symbolizer.UserFrame(42, 0x10));
        Assert.Equal("[kernel]+0xffffffff81000000_[k]", symbolizer.KernelFrame(0xffffffff81000000));
        Assert.Equal((2L, 1L), (symbolizer.Stats.UnresolvedUserFrames, symbolizer.Stats.UnresolvedKernelFrames));
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void A_process_that_exits_keeps_its_last_map_and_an_exec_is_seen_at_the_next_drain()
    {
        var exe = Workload.CompileCpuHog();
        var directory = Path.GetDirectoryName(exe)!;
        var nm = NmFunctions(exe);
        var elf = ElfFile.TryRead(exe)!;
        var offset = FileOffset(elf, nm["hot_b"]);
        var proc = FakeProc(directory, 7, $"400000-500000 r-xp 00000000 08:01 5 {exe}\n", mapFile: exe, mapName: "400000-500000");
        var symbolizer = new Symbolizer(8, 8, 100, proc, () => SymbolTable.Empty);
        symbolizer.BeginDrain();
        Assert.Equal("hot_b", symbolizer.UserFrame(7, 0x400000 + offset));

        Directory.Delete(Path.Combine(proc, "7"), recursive: true); // exited
        symbolizer.BeginDrain();
        Assert.Equal("hot_b", symbolizer.UserFrame(7, 0x400000 + offset));
        Assert.Equal(1, symbolizer.Stats.UnreadableProcesses);

        FakeProc(directory, 7, "600000-700000 r-xp 00000000 00:00 0 \n"); // the pid now runs something else
        symbolizer.BeginDrain();
        Assert.Equal("[anon]", symbolizer.UserFrame(7, 0x400000 + offset + 0x200000));
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void Anonymous_code_is_named_from_the_perf_map_under_the_process_root_by_its_namespace_pid()
    {
        var directory = Directory.CreateTempSubdirectory("kubebpf-jit-").FullName;
        var proc = FakeProc(directory, 300, "7f0000000000-7f0000100000 r-xp 00000000 00:00 0 \n", nsPid: 12);
        Directory.CreateDirectory(Path.Combine(proc, "300", "root", "tmp"));
        File.WriteAllText(Path.Combine(proc, "300", "root", "tmp", "perf-12.map"), "7f0000001000 100 void [App] Program::Spin()[Optimized]\n");
        var symbolizer = new Symbolizer(8, 8, 100, proc, () => SymbolTable.Empty);
        symbolizer.BeginDrain();

        Assert.Equal("void [App] Program::Spin()[Optimized]", symbolizer.UserFrame(300, 0x7f0000001050));
        Assert.Equal("[anon]", symbolizer.UserFrame(300, 0x7f0000002000));
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void The_least_recently_used_entry_goes_first()
    {
        var cache = new LruCache<int, string>(2);
        cache.GetOrAdd(1, _ => "one");
        cache.GetOrAdd(2, _ => "two");
        cache.GetOrAdd(1, _ => "again");
        cache.GetOrAdd(3, _ => "three");

        Assert.Equal([3, 1], cache.Keys);
        Assert.Equal(1, cache.Evictions);
        Assert.Equal("one", cache.GetOrAdd(1, _ => "replaced"));
    }

    /// <summary>A <c>/proc</c> look-alike with one process: its maps, NSpid and optionally one map_files entry.</summary>
    private static string FakeProc(string directory, int pid, string maps, string? mapFile = null, string? mapName = null, int? nsPid = null)
    {
        var proc = Path.Combine(directory, "proc");
        var process = Path.Combine(proc, pid.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(Path.Combine(process, "map_files"));
        File.WriteAllText(Path.Combine(process, "maps"), maps);
        File.WriteAllText(Path.Combine(process, "status"), $"Name:\tx\nNSpid:\t{pid}\t{nsPid ?? pid}\n");
        if (mapFile is not null)
        {
            File.CreateSymbolicLink(Path.Combine(process, "map_files", mapName!), mapFile);
        }

        return proc;
    }

    private static ulong FileOffset(ElfFile elf, ulong virtualAddress)
    {
        foreach (var (offset, address, size) in elf.Segments)
        {
            if (virtualAddress >= address && virtualAddress < address + size)
            {
                return virtualAddress - address + offset;
            }
        }

        throw new InvalidOperationException($"0x{virtualAddress:x} is in no segment");
    }

    private static Dictionary<string, ulong> NmFunctions(string exe) =>
        KernelTest.Run("nm", "--defined-only", exe).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .Where(f => f.Length == 3 && f[1] is "T" or "t")
            .GroupBy(f => f[2])
            .ToDictionary(g => g.Key, g => ulong.Parse(g.First()[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
}
