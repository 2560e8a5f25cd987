using Kubebpf.Sdk.Metadata;

namespace Kubebpf.StaticMetadata;

/// <summary>One validated entry of the workload file: the identity to hand out and what it matches.</summary>
/// <param name="Identity">The shared instance every lookup returns.</param>
/// <param name="Line">Where the entry starts, for conflict messages.</param>
/// <param name="Interfaces">Interface names, e.g. the pod's host-side veth.</param>
/// <param name="Addresses">Exact addresses and CIDR blocks.</param>
/// <param name="Ports">Ports that narrow the address match (host-network workloads sharing an IP); empty for any port.</param>
internal sealed record WorkloadEntry(
    WorkloadIdentity Identity,
    int Line,
    IReadOnlyList<string> Interfaces,
    IReadOnlyList<IpPrefix> Addresses,
    IReadOnlyList<ushort> Ports);
