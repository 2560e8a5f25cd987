using Microsoft.Win32.SafeHandles;

namespace Kubebpf.Sdk.Bpf;

/// <summary>An attachment of a program (tracepoint, uprobe, perf event). Disposing detaches it (<c>bpf_link__destroy</c>).</summary>
public sealed class BpfLink : SafeHandleZeroOrMinusOneIsInvalid
{
    internal BpfLink(nint link)
        : base(ownsHandle: true) => SetHandle(link);

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => LibBpf.bpf_link__destroy(handle) == 0;
}
