using System.Runtime.InteropServices;

namespace Kubebpf.Sdk.Bpf;

/// <summary>
/// Raw libbpf 1.x declarations, C names verbatim. libbpf 1.x returns <c>-errno</c> from int functions and
/// NULL with <c>errno</c> set from pointer functions; <see cref="BpfException"/> turns both into exceptions.
/// </summary>
internal static unsafe partial class LibBpf
{
    private const string Lib = "libbpf.so.1";

    internal const int LIBBPF_WARN = 0;
    internal const int LIBBPF_INFO = 1;
    internal const int BTF_KIND_VAR = 14;
    internal const int BTF_KIND_DATASEC = 15;
    internal const int BPF_MAP_TYPE_ARRAY = 2;
    internal const uint BPF_TC_F_REPLACE = 1;

    /// <summary><c>struct bpf_tc_hook</c>: a clsact hook (attach_point BPF_TC_INGRESS 1, BPF_TC_EGRESS 2, both 3).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct bpf_tc_hook
    {
        public nuint sz;
        public int ifindex;
        public int attach_point;
        public uint parent;
        private readonly uint _pad;
    }

    /// <summary><c>struct bpf_tc_opts</c>: one filter on a hook, named by handle and priority.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct bpf_tc_opts
    {
        public nuint sz;
        public int prog_fd;
        public uint flags;
        public uint prog_id;
        public uint handle;
        public uint priority;
        private readonly uint _pad;
    }

    /// <summary>The leading members of <c>struct bpf_object_open_opts</c>; libbpf accepts a shorter <c>sz</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct bpf_object_open_opts
    {
        public nuint sz;
        public byte* object_name;
    }

    /// <summary><c>struct btf_type</c> header; a DATASEC is followed by <c>vlen</c> <see cref="btf_var_secinfo"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct btf_type
    {
        public uint name_off;
        public uint info;
        public uint size_or_type;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct btf_var_secinfo
    {
        public uint type;
        public uint offset;
        public uint size;
    }

    [LibraryImport(Lib)]
    internal static partial nint libbpf_set_print(delegate* unmanaged<int, byte*, nint, int> fn);

    [LibraryImport(Lib)]
    internal static partial int libbpf_num_possible_cpus();

    /// <summary>Returns the map's fd, or <c>-errno</c>.</summary>
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int bpf_map_create(int map_type, string? map_name, uint key_size, uint value_size, uint max_entries, void* opts);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint bpf_object__open_mem(void* obj_buf, nuint obj_buf_sz, bpf_object_open_opts* opts);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint bpf_object__open_file(string path, bpf_object_open_opts* opts);

    [LibraryImport(Lib)]
    internal static partial int bpf_object__load(nint obj);

    [LibraryImport(Lib)]
    internal static partial void bpf_object__close(nint obj);

    [LibraryImport(Lib)]
    internal static partial nint bpf_object__btf(nint obj);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint bpf_object__find_program_by_name(nint obj, string name);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint bpf_object__find_map_by_name(nint obj, string name);

    [LibraryImport(Lib)]
    internal static partial nint bpf_object__next_map(nint obj, nint map);

    [LibraryImport(Lib)]
    internal static partial int bpf_program__fd(nint prog);

    [LibraryImport(Lib)]
    internal static partial int bpf_program__set_autoload(nint prog, [MarshalAs(UnmanagedType.U1)] bool autoload);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint bpf_program__attach_tracepoint(nint prog, string tp_category, string tp_name);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint bpf_program__attach_uprobe(
        nint prog, [MarshalAs(UnmanagedType.U1)] bool retprobe, int pid, string binary_path, nuint func_offset);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint bpf_program__attach_perf_event(nint prog, int pfd);

    [LibraryImport(Lib)]
    internal static partial int bpf_link__destroy(nint link);

    /// <summary>Creates the clsact qdisc; <c>-EEXIST</c> when it exists.</summary>
    [LibraryImport(Lib)]
    internal static partial int bpf_tc_hook_create(bpf_tc_hook* hook);

    [LibraryImport(Lib)]
    internal static partial int bpf_tc_attach(bpf_tc_hook* hook, bpf_tc_opts* opts);

    [LibraryImport(Lib)]
    internal static partial int bpf_tc_detach(bpf_tc_hook* hook, bpf_tc_opts* opts);

    [LibraryImport(Lib)]
    internal static partial int bpf_map__fd(nint map);

    [LibraryImport(Lib)]
    internal static partial byte* bpf_map__name(nint map);

    [LibraryImport(Lib)]
    internal static partial uint bpf_map__key_size(nint map);

    [LibraryImport(Lib)]
    internal static partial uint bpf_map__value_size(nint map);

    [LibraryImport(Lib)]
    internal static partial uint bpf_map__max_entries(nint map);

    [LibraryImport(Lib)]
    internal static partial int bpf_map__set_max_entries(nint map, uint max_entries);

    [LibraryImport(Lib)]
    internal static partial void* bpf_map__initial_value(nint map, nuint* psize);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int bpf_map_lookup_elem(int fd, void* key, void* value);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int bpf_map_update_elem(int fd, void* key, void* value, ulong flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int bpf_map_delete_elem(int fd, void* key);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int bpf_map_lookup_and_delete_elem(int fd, void* key, void* value);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int bpf_map_get_next_key(int fd, void* key, void* next_key);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int btf__find_by_name_kind(nint btf, string type_name, uint kind);

    [LibraryImport(Lib)]
    internal static partial btf_type* btf__type_by_id(nint btf, uint id);

    [LibraryImport(Lib)]
    internal static partial byte* btf__name_by_offset(nint btf, uint offset);
}
