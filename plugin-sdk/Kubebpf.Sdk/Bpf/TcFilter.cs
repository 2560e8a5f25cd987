namespace Kubebpf.Sdk.Bpf;

/// <summary>The hook of an interface's clsact qdisc a <see cref="TcFilter"/> runs on (libbpf's <c>BPF_TC_INGRESS</c>, <c>BPF_TC_EGRESS</c>).</summary>
public enum TcDirection
{
    /// <summary>Packets arriving on the interface.</summary>
    Ingress = 1,

    /// <summary>Packets leaving through the interface.</summary>
    Egress = 2,
}

/// <summary>
/// A sched_cls program attached in direct-action mode to one hook of an interface's clsact qdisc, under a fixed
/// handle and priority that name the filter as the caller's. Attaching creates the clsact qdisc when missing and
/// replaces a filter already at that handle and priority (one left behind by a killed process of the same kind), so
/// a restart needs no clean-up; filters of other owners on the hook are left alone. Disposing removes this filter only:
/// the qdisc stays, since other tools may have filters on it. Needs CAP_NET_ADMIN.
/// </summary>
public sealed unsafe class TcFilter : IDisposable
{
    private bool _detached;

    private readonly uint _handle;
    private readonly uint _priority;

    private TcFilter(int interfaceIndex, TcDirection direction, uint handle, uint priority)
    {
        InterfaceIndex = interfaceIndex;
        Direction = direction;
        _handle = handle;
        _priority = priority;
    }

    /// <summary>The interface the filter is on.</summary>
    public int InterfaceIndex { get; }

    /// <summary>The hook the filter is on.</summary>
    public TcDirection Direction { get; }

    /// <summary>
    /// Attaches <paramref name="program"/> (a loaded <c>SEC("tc")</c> program) to <paramref name="direction"/> of
    /// interface <paramref name="interfaceIndex"/> as filter <paramref name="handle"/> at <paramref name="priority"/>
    /// (1 to 65535), replacing the filter already there under that handle and priority.
    /// </summary>
    /// <exception cref="BpfException">The qdisc or the filter could not be created (the message names the call and errno).</exception>
    public static TcFilter Attach(BpfProgram program, int interfaceIndex, TcDirection direction, uint handle, uint priority, string? interfaceName = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentOutOfRangeException.ThrowIfZero(handle);
        ArgumentOutOfRangeException.ThrowIfZero(priority);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(priority, ushort.MaxValue);
        var context = $"{interfaceName ?? $"ifindex {interfaceIndex}"} {direction.ToString().ToLowerInvariant()}";
        var hook = Hook(interfaceIndex, direction);
        var created = LibBpf.bpf_tc_hook_create(&hook);
        if (created < 0 && created != -Errno.EEXIST)
        {
            throw new BpfException("bpf_tc_hook_create", -created, context);
        }

        var opts = Options(handle, priority);
        opts.prog_fd = program.Fd;
        opts.flags = LibBpf.BPF_TC_F_REPLACE;
        var rc = LibBpf.bpf_tc_attach(&hook, &opts);
        if (rc < 0)
        {
            throw new BpfException("bpf_tc_attach", -rc, context);
        }

        return new TcFilter(interfaceIndex, direction, handle, priority);
    }

    /// <summary>Removes this filter (nothing else on the hook). A vanished interface took it along: not an error.</summary>
    public void Dispose()
    {
        if (_detached)
        {
            return;
        }

        _detached = true;
        var hook = Hook(InterfaceIndex, Direction);
        var opts = Options(_handle, _priority);
        _ = LibBpf.bpf_tc_detach(&hook, &opts);
    }

    private static LibBpf.bpf_tc_hook Hook(int interfaceIndex, TcDirection direction) =>
        new() { sz = (nuint)sizeof(LibBpf.bpf_tc_hook), ifindex = interfaceIndex, attach_point = (int)direction };

    private static LibBpf.bpf_tc_opts Options(uint handle, uint priority) =>
        new() { sz = (nuint)sizeof(LibBpf.bpf_tc_opts), handle = handle, priority = priority };
}
