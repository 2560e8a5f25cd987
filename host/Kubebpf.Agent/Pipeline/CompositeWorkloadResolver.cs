using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Agent.Pipeline;

/// <summary>Asks every metadata source in configuration order; the first answer wins.</summary>
internal sealed class CompositeWorkloadResolver : IWorkloadResolver
{
    private IWorkloadMetadataSource[] _sources = [];

    /// <summary>Set once all plugins are built, before any probe starts.</summary>
    public void SetSources(IEnumerable<IWorkloadMetadataSource> sources) => Volatile.Write(ref _sources, [.. sources]);

    public WorkloadIdentity? ResolveEndpoint(in NetworkEndpoint endpoint)
    {
        foreach (var source in Volatile.Read(ref _sources))
        {
            if (source.ResolveEndpoint(endpoint) is { } identity)
            {
                return identity;
            }
        }

        return null;
    }

    public WorkloadIdentity? ResolveInterface(string interfaceName)
    {
        foreach (var source in Volatile.Read(ref _sources))
        {
            if (source.ResolveInterface(interfaceName) is { } identity)
            {
                return identity;
            }
        }

        return null;
    }
}
