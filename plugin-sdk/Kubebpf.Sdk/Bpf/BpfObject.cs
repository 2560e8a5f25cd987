using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Kubebpf.Sdk.Bpf;

/// <summary>
/// A compiled eBPF object (<c>.bpf.o</c>): open it, adjust <c>.rodata</c> variables and map sizes, <see cref="Load"/>
/// it, then use its <see cref="Program"/>s and <see cref="Map"/>s. Disposing closes every program and map of the
/// object (links and sockets using them keep their own kernel references). Not thread-safe: configure and load it
/// from one thread; the returned <see cref="BpfMap"/> operations may then be used from any thread.
/// </summary>
public sealed unsafe class BpfObject : IDisposable
{
    private readonly ObjectHandle _handle;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly Dictionary<string, BpfProgram> _programs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BpfMap> _maps = new(StringComparer.Ordinal);

    private BpfObject(ObjectHandle handle, string name, ILogger logger)
    {
        _handle = handle;
        _name = name;
        _logger = logger;
    }

    /// <summary>True after a successful <see cref="Load"/>.</summary>
    public bool IsLoaded { get; private set; }

    /// <summary>Opens an object from its ELF bytes (e.g. an embedded resource). Nothing is loaded into the kernel yet.</summary>
    /// <param name="elf">The ELF file contents; copied, so the span need not outlive the call.</param>
    /// <param name="name">The object name (shown in libbpf logs and as the prefix of internal map names).</param>
    /// <param name="logger">Receives libbpf's messages.</param>
    public static BpfObject OpenMemory(ReadOnlySpan<byte> elf, string name, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        using var scope = LibBpfLog.Capture(logger);
        var nameBytes = NullTerminated(name);
        nint obj;
        fixed (byte* elfPtr = elf)
        fixed (byte* namePtr = nameBytes)
        {
            var opts = new LibBpf.bpf_object_open_opts { sz = (nuint)sizeof(LibBpf.bpf_object_open_opts), object_name = namePtr };
            obj = LibBpf.bpf_object__open_mem(elfPtr, (nuint)elf.Length, &opts);
        }

        if (obj == 0)
        {
            throw new BpfException("bpf_object__open_mem", Marshal.GetLastPInvokeError(), name);
        }

        return new BpfObject(new ObjectHandle(obj), name, logger);
    }

    /// <summary>Opens an object from a <c>.bpf.o</c> file. Nothing is loaded into the kernel yet.</summary>
    public static BpfObject OpenFile(string path, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        using var scope = LibBpfLog.Capture(logger);
        var obj = LibBpf.bpf_object__open_file(path, null);
        if (obj == 0)
        {
            throw new BpfException("bpf_object__open_file", Marshal.GetLastPInvokeError(), path);
        }

        return new BpfObject(new ObjectHandle(obj), Path.GetFileName(path), logger);
    }

    /// <summary>
    /// Sets a <c>const volatile</c> global (a <c>.rodata</c> variable) before <see cref="Load"/>; the verifier then
    /// sees it as a constant. <paramref name="value"/> must have exactly the variable's size.
    /// </summary>
    public void SetReadOnlyVariable(string name, ReadOnlySpan<byte> value)
    {
        ThrowIfLoaded();
        var map = FindRodataMap();
        if (map == 0)
        {
            throw new InvalidOperationException($"Object '{_name}' has no .rodata section (variable '{name}').");
        }

        var btf = LibBpf.bpf_object__btf(Handle);
        if (btf == 0)
        {
            throw new InvalidOperationException($"Object '{_name}' carries no BTF: compile it with -g.");
        }

        var (offset, size) = FindVariable(btf, name);
        if (size != value.Length)
        {
            throw new ArgumentException($"Variable '{name}' is {size} bytes, the value {value.Length}.", nameof(value));
        }

        nuint dataSize;
        var data = (byte*)LibBpf.bpf_map__initial_value(map, &dataSize);
        if (data is null || (nuint)(offset + size) > dataSize)
        {
            throw new InvalidOperationException($"The .rodata image of '{_name}' does not cover variable '{name}'.");
        }

        value.CopyTo(new Span<byte>(data + offset, size));
    }

    /// <summary>Sets a <c>const volatile __u32</c> variable before <see cref="Load"/>.</summary>
    public void SetReadOnlyVariable(string name, uint value) =>
        SetReadOnlyVariable(name, MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in value)));

    /// <summary>Sets a map's <c>max_entries</c> before <see cref="Load"/> (for a ring buffer: its size in bytes, a power of two multiple of the page size).</summary>
    public void SetMaxEntries(string mapName, uint maxEntries)
    {
        ThrowIfLoaded();
        var map = FindMap(mapName);
        var rc = LibBpf.bpf_map__set_max_entries(map, maxEntries);
        if (rc < 0)
        {
            throw new BpfException("bpf_map__set_max_entries", -rc, mapName);
        }
    }

    /// <summary>Creates the maps and loads the programs into the kernel; a verifier rejection throws with its log.</summary>
    public void Load()
    {
        ThrowIfLoaded();
        using var scope = LibBpfLog.Capture(_logger);
        var rc = LibBpf.bpf_object__load(Handle);
        if (rc < 0)
        {
            throw new BpfException("bpf_object__load", -rc, _name, scope.VerifierLog());
        }

        IsLoaded = true;
    }

    /// <summary>A program of the object by its C function name.</summary>
    public BpfProgram Program(string name)
    {
        if (!_programs.TryGetValue(name, out var program))
        {
            var prog = LibBpf.bpf_object__find_program_by_name(Handle, name);
            if (prog == 0)
            {
                throw new BpfException("bpf_object__find_program_by_name", Marshal.GetLastPInvokeError(), $"{_name}: {name}");
            }

            _programs[name] = program = new BpfProgram(this, prog, name);
        }

        return program;
    }

    /// <summary>A map of the object by its C variable name.</summary>
    public BpfMap Map(string name)
    {
        if (!_maps.TryGetValue(name, out var map))
        {
            _maps[name] = map = new BpfMap(this, FindMap(name), name);
        }

        return map;
    }

    /// <summary>Closes the object: its programs and maps are released once no link, socket or mmap uses them.</summary>
    public void Dispose() => _handle.Dispose();

    internal nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _handle.DangerousGetHandle();
        }
    }

    internal ILogger Logger => _logger;

    private nint FindMap(string name)
    {
        var map = LibBpf.bpf_object__find_map_by_name(Handle, name);
        return map != 0 ? map : throw new BpfException("bpf_object__find_map_by_name", Marshal.GetLastPInvokeError(), $"{_name}: {name}");
    }

    private nint FindRodataMap()
    {
        // libbpf names internal maps "<object name prefix>.rodata"; string literals live in ".rodata.str1.1" and the like.
        for (var map = LibBpf.bpf_object__next_map(Handle, 0); map != 0; map = LibBpf.bpf_object__next_map(Handle, map))
        {
            var mapName = Marshal.PtrToStringUTF8((nint)LibBpf.bpf_map__name(map));
            if (mapName is not null && mapName.EndsWith(".rodata", StringComparison.Ordinal))
            {
                return map;
            }
        }

        return 0;
    }

    private (int Offset, int Size) FindVariable(nint btf, string name)
    {
        var id = LibBpf.btf__find_by_name_kind(btf, ".rodata", LibBpf.BTF_KIND_DATASEC);
        if (id < 0)
        {
            throw new InvalidOperationException($"Object '{_name}' has no .rodata DATASEC in its BTF.");
        }

        var datasec = LibBpf.btf__type_by_id(btf, (uint)id);
        var count = (int)(datasec->info & 0xffff);
        var vars = (LibBpf.btf_var_secinfo*)(datasec + 1);
        for (var i = 0; i < count; i++)
        {
            var variable = LibBpf.btf__type_by_id(btf, vars[i].type);
            if ((int)((variable->info >> 24) & 0x1f) == LibBpf.BTF_KIND_VAR &&
                Marshal.PtrToStringUTF8((nint)LibBpf.btf__name_by_offset(btf, variable->name_off)) == name)
            {
                return ((int)vars[i].offset, (int)vars[i].size);
            }
        }

        throw new ArgumentException($"Object '{_name}' has no const volatile variable '{name}'.", nameof(name));
    }

    private void ThrowIfLoaded()
    {
        if (IsLoaded)
        {
            throw new InvalidOperationException($"Object '{_name}' is already loaded: configure it before Load().");
        }
    }

    private static byte[] NullTerminated(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    private sealed class ObjectHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public ObjectHandle(nint obj)
            : base(ownsHandle: true) => SetHandle(obj);

        protected override bool ReleaseHandle()
        {
            LibBpf.bpf_object__close(handle);
            return true;
        }
    }
}
