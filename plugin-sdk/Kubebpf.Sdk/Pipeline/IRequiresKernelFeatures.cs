using Kubebpf.Sdk.Bpf;

namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// Optional capability of a probe: what it needs from the kernel beyond privileges. Before starting any probe the
/// host checks the union of these (mounting tracefs/bpffs when it can) and refuses to start with an actionable
/// message when something is missing.
/// </summary>
public interface IRequiresKernelFeatures
{
    /// <summary>The features the probe needs; read once, at start-up.</summary>
    KernelFeatures RequiredKernelFeatures { get; }
}
