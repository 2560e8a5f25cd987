using System.Runtime.InteropServices;

namespace Kubebpf.Sdk.Bpf;

/// <summary>
/// A program of a <see cref="BpfObject"/>. Valid while its object is not disposed; attach it after
/// <see cref="BpfObject.Load"/>. Each attach returns a <see cref="BpfLink"/> that detaches when disposed.
/// </summary>
public sealed class BpfProgram
{
    private readonly BpfObject _owner;
    private readonly nint _prog;

    internal BpfProgram(BpfObject owner, nint prog, string name)
    {
        _owner = owner;
        _prog = prog;
        Name = name;
    }

    /// <summary>The C function name.</summary>
    public string Name { get; }

    /// <summary>The kernel file descriptor of the loaded program (for <c>SO_ATTACH_BPF</c> and the like).</summary>
    /// <exception cref="InvalidOperationException">The object is not loaded.</exception>
    public int Fd
    {
        get
        {
            var fd = LibBpf.bpf_program__fd(Handle);
            return fd >= 0 ? fd : throw new InvalidOperationException($"Program '{Name}' is not loaded: call BpfObject.Load() first.");
        }
    }

    /// <summary>
    /// Whether <see cref="BpfObject.Load"/> loads this program (default true). Turn it off, before the load, for a
    /// program of the object that will not be used, e.g. one whose type needs a capability this process lacks.
    /// </summary>
    public void SetAutoLoad(bool autoLoad)
    {
        var rc = LibBpf.bpf_program__set_autoload(Handle, autoLoad);
        if (rc < 0)
        {
            throw new BpfException("bpf_program__set_autoload", -rc, Name);
        }
    }

    /// <summary>Attaches to the tracepoint <c>category/name</c> (e.g. <c>syscalls</c>, <c>sys_enter_getpid</c>); needs tracefs mounted.</summary>
    public BpfLink AttachTracepoint(string category, string name) =>
        Link(LibBpf.bpf_program__attach_tracepoint(Handle, category, name), "bpf_program__attach_tracepoint", $"{Name} -> {category}/{name}");

    /// <summary>Attaches a uprobe (or uretprobe) at <paramref name="offset"/> bytes into <paramref name="binaryPath"/>'s file.</summary>
    /// <param name="retprobe">True for a return probe.</param>
    /// <param name="pid">The process to trace; -1 for all processes.</param>
    /// <param name="binaryPath">The executable or shared library.</param>
    /// <param name="offset">The function's file offset in the binary.</param>
    public BpfLink AttachUprobe(bool retprobe, int pid, string binaryPath, ulong offset) =>
        Link(LibBpf.bpf_program__attach_uprobe(Handle, retprobe, pid, binaryPath, (nuint)offset),
            "bpf_program__attach_uprobe", $"{Name} -> {binaryPath}+0x{offset:x}");

    /// <summary>Attaches to an opened perf event (from <c>perf_event_open</c>); the link takes ownership of <paramref name="perfEventFd"/>.</summary>
    public BpfLink AttachPerfEvent(int perfEventFd) =>
        Link(LibBpf.bpf_program__attach_perf_event(Handle, perfEventFd), "bpf_program__attach_perf_event", $"{Name} -> perf event fd {perfEventFd}");

    /// <inheritdoc/>
    public override string ToString() => Name;

    private nint Handle
    {
        get
        {
            _ = _owner.Handle; // throws once the object is disposed
            return _prog;
        }
    }

    private static BpfLink Link(nint link, string call, string context) =>
        link != 0 ? new BpfLink(link) : throw new BpfException(call, Marshal.GetLastPInvokeError(), context);
}
