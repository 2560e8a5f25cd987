using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.ServiceMap.Naming;
using Kubebpf.ServiceMap.Services;

namespace Kubebpf.ServiceMap.Aggregation;

/// <summary>
/// Turns one observation (a call or a connection, seen from one workload) into the ends of its edge, or says that
/// the other side's agent counts it. The rule that makes every call and connection count once in the cluster: the
/// <b>client's side owns the edge</b>. A client in a pod is on a veth some agent observes (on this node or another),
/// so what a server sees coming from a pod is left to that pod's agent; the server's side counts only calls from
/// clients no agent observes: the outside world, host-network processes and nodes (kind <c>Host</c>), and addresses
/// no metadata names. The client's side also sees the service address it called, which the server never sees.
/// Not thread-safe: the aggregator calls it under its lock.
/// </summary>
internal sealed class EdgeResolver(NodeNamer namer, IWorkloadResolver resolver, IServiceAddressTranslator translator)
{
    /// <summary>The edge's source, target, destination port and service, or false when the client's side owns it.</summary>
    public bool TryResolve(
        Transport transport,
        TrafficDirection direction,
        WorkloadIdentity? workload,
        WorkloadIdentity? peer,
        in NetworkEndpoint client,
        in NetworkEndpoint server,
        out Ends ends)
    {
        if (direction == TrafficDirection.In)
        {
            if (IsObservedClient(peer))
            {
                ends = default;
                return false;
            }

            ends = new Ends(NodeOf(peer, client), NodeOf(workload, server), server.Port, "");
            return true;
        }

        var source = NodeOf(workload, client);
        if (IsVirtualOrUnknown(peer) && translator.TryTranslate(transport, client, server, out var actual))
        {
            var backend = resolver.ResolveEndpoint(actual);
            var service = peer?.Service is { Length: > 0 } named ? named : backend?.Service ?? "";
            ends = new Ends(source, NodeOf(backend, actual), actual.Port, service);
            return true;
        }

        ends = new Ends(source, NodeOf(peer, server), server.Port, "");
        return true;
    }

    /// <summary>A client some agent observes on its pod's veth: a workload with a pod, not a node's own stack.</summary>
    private static bool IsObservedClient(WorkloadIdentity? peer) =>
        peer is not null && peer.Pod.Length > 0 && peer.WorkloadKind != "Host";

    /// <summary>A service's cluster IP (named, but no pod) or an address nothing names: either may be a DNAT-ed virtual IP.</summary>
    private static bool IsVirtualOrUnknown(WorkloadIdentity? peer) => peer is null || peer.Pod.Length == 0;

    private MapNode NodeOf(WorkloadIdentity? identity, in NetworkEndpoint endpoint) =>
        identity is null ? namer.OfAddress(endpoint) : namer.Of(identity);

    /// <summary>The ends of one edge.</summary>
    internal readonly record struct Ends(MapNode Source, MapNode Target, ushort Port, string Service);
}
