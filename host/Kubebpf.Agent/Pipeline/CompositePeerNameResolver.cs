using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Agent.Pipeline;

/// <summary>Asks every learned-name source in configuration order; the first answer wins.</summary>
internal sealed class CompositePeerNameResolver : IPeerNameResolver
{
    private IPeerNameSource[] _sources = [];

    /// <summary>Set once all plugins are built, before any probe starts.</summary>
    public void SetSources(IEnumerable<IPeerNameSource> sources) => Volatile.Write(ref _sources, [.. sources]);

    public string? ResolveName(in NetworkEndpoint endpoint)
    {
        foreach (var source in Volatile.Read(ref _sources))
        {
            if (source.ResolveName(endpoint) is { } name)
            {
                return name;
            }
        }

        return null;
    }
}
