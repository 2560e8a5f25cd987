using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Http.Tracking;

/// <summary>
/// Names each exchange as <see cref="HttpConnectionTracker"/> completes it, so that the exchange is built once with its
/// names instead of being copied again to add them.
/// </summary>
internal interface IExchangeNamer
{
    /// <summary>The names of an exchange completed now between the observed workload's <paramref name="local"/> endpoint and <paramref name="remote"/>.</summary>
    ExchangeNames Name(in NetworkEndpoint local, in NetworkEndpoint remote);
}

/// <summary>Where an exchange was seen and who took part in it.</summary>
/// <param name="Interface">The interface the exchange was seen on, or empty.</param>
/// <param name="Workload">The observed workload, or null when unknown.</param>
/// <param name="Peer">The other side, or null when unknown.</param>
internal readonly record struct ExchangeNames(string Interface, WorkloadIdentity? Workload, WorkloadIdentity? Peer)
{
    /// <summary>No interface, no workloads: what a tracker without a namer gives.</summary>
    public static readonly ExchangeNames None = new(string.Empty, null, null);
}
