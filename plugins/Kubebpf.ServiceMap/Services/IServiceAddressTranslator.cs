using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Net;

namespace Kubebpf.ServiceMap.Services;

/// <summary>Finds where a connection to a virtual address (a Kubernetes service's cluster IP) really went.</summary>
internal interface IServiceAddressTranslator
{
    /// <summary>
    /// The endpoint the kernel translated <paramref name="server"/> to for the <paramref name="transport"/> flow from
    /// <paramref name="client"/> (DNAT), or false when it was not translated or is not known. Non-blocking enough for the capture thread
    /// (answers are cached); thread-safe.
    /// </summary>
    bool TryTranslate(Transport transport, in NetworkEndpoint client, in NetworkEndpoint server, out NetworkEndpoint actual);
}

/// <summary>No translation: <see cref="ServiceMapOptions.ResolveServiceAddresses"/> is off.</summary>
internal sealed class NoTranslation : IServiceAddressTranslator
{
    public bool TryTranslate(Transport transport, in NetworkEndpoint client, in NetworkEndpoint server, out NetworkEndpoint actual)
    {
        actual = server;
        return false;
    }
}
