using System.Runtime.InteropServices;

namespace Kubebpf.Sdk.Bpf;

/// <summary>
/// A map of a <see cref="BpfObject"/>. Sizes are available after open; element operations need the object
/// loaded. Element operations are single syscalls and safe to call from any thread while the object lives.
/// </summary>
public sealed unsafe class BpfMap
{
    private readonly BpfObject _owner;
    private readonly nint _map;

    internal BpfMap(BpfObject owner, nint map, string name)
    {
        _owner = owner;
        _map = map;
        Name = name;
    }

    /// <summary>The C variable name.</summary>
    public string Name { get; }

    /// <summary>The kernel file descriptor (after load).</summary>
    /// <exception cref="InvalidOperationException">The object is not loaded.</exception>
    public int Fd
    {
        get
        {
            var fd = LibBpf.bpf_map__fd(Handle);
            return fd >= 0 ? fd : throw new InvalidOperationException($"Map '{Name}' is not created yet: call BpfObject.Load() first.");
        }
    }

    /// <summary>Key size in bytes.</summary>
    public int KeySize => (int)LibBpf.bpf_map__key_size(Handle);

    /// <summary>Value size in bytes (of one CPU's slot for per-CPU maps).</summary>
    public int ValueSize => (int)LibBpf.bpf_map__value_size(Handle);

    /// <summary><c>max_entries</c>: element count, or the data size in bytes of a ring buffer.</summary>
    public uint MaxEntries => LibBpf.bpf_map__max_entries(Handle);

    /// <summary>Reads the value of <paramref name="key"/>; false when there is no such element.</summary>
    /// <param name="key">Exactly <see cref="KeySize"/> bytes.</param>
    /// <param name="value"><see cref="ValueSize"/> bytes, times <see cref="PossibleCpus"/> (each slot 8-aligned) for per-CPU maps.</param>
    public bool Lookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            return Check(LibBpf.bpf_map_lookup_elem(Fd, k, v), "bpf_map_lookup_elem");
        }
    }

    /// <summary>Creates or replaces the value of <paramref name="key"/> (<c>BPF_ANY</c>).</summary>
    public void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        CheckKey(key);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            Check(LibBpf.bpf_map_update_elem(Fd, k, v, 0), "bpf_map_update_elem");
        }
    }

    /// <summary>Deletes <paramref name="key"/>; false when there was no such element.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        fixed (byte* k = key)
        {
            return Check(LibBpf.bpf_map_delete_elem(Fd, k), "bpf_map_delete_elem");
        }
    }

    /// <summary>
    /// Reads and deletes <paramref name="key"/> in one step (hash maps, kernel 5.14+), so that no update made in
    /// between is lost; false when there is no such element.
    /// </summary>
    /// <param name="key">Exactly <see cref="KeySize"/> bytes.</param>
    /// <param name="value"><see cref="ValueSize"/> bytes.</param>
    public bool LookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            return Check(LibBpf.bpf_map_lookup_and_delete_elem(Fd, k, v), "bpf_map_lookup_and_delete_elem");
        }
    }

    /// <summary>
    /// Iteration: writes the key following <paramref name="key"/> (the first key when <paramref name="key"/> is empty)
    /// into <paramref name="nextKey"/>; false at the end.
    /// </summary>
    public bool GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if (!key.IsEmpty)
        {
            CheckKey(key);
        }

        if (nextKey.Length < KeySize)
        {
            throw new ArgumentException($"Map '{Name}' has {KeySize}-byte keys.", nameof(nextKey));
        }

        fixed (byte* k = key)
        fixed (byte* n = nextKey)
        {
            return Check(LibBpf.bpf_map_get_next_key(Fd, key.IsEmpty ? null : k, n), "bpf_map_get_next_key");
        }
    }

    /// <summary>Sums a per-CPU array's 64-bit value at <paramref name="index"/> over all possible CPUs (kernel counters).</summary>
    public ulong SumPerCpu(uint index)
    {
        if (ValueSize != sizeof(ulong))
        {
            throw new InvalidOperationException($"Map '{Name}' has {ValueSize}-byte values, not u64.");
        }

        Span<ulong> values = stackalloc ulong[PossibleCpus];
        if (!Lookup(MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in index)), MemoryMarshal.AsBytes(values)))
        {
            return 0;
        }

        ulong sum = 0;
        foreach (var value in values)
        {
            sum += value;
        }

        return sum;
    }

    /// <summary>The number of possible CPUs: the slot count of per-CPU map values.</summary>
    public static int PossibleCpus { get; } = LibBpf.libbpf_num_possible_cpus();

    /// <inheritdoc/>
    public override string ToString() => Name;

    internal nint Handle
    {
        get
        {
            _ = _owner.Handle; // throws once the object is disposed
            return _map;
        }
    }

    private void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"Map '{Name}' has {KeySize}-byte keys, got {key.Length}.", nameof(key));
        }
    }

    private bool Check(int rc, string call)
    {
        if (rc >= 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == Errno.ENOENT ? false : throw new BpfException(call, errno, Name);
    }
}
