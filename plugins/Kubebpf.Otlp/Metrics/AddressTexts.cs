using Kubebpf.Sdk.Net;

namespace Kubebpf.Otlp.Metrics;

/// <summary>
/// The text of endpoint addresses, cached: servers repeat on every exchange and formatting goes through an
/// <see cref="System.Net.IPAddress"/> each time. Bounded (cleared when full). Not thread-safe.
/// </summary>
internal sealed class AddressTexts
{
    private const int MaxEntries = 16384;
    private readonly Dictionary<NetworkEndpoint, string> _texts = [];

    /// <summary>The address of <paramref name="endpoint"/> without its port.</summary>
    public string Address(NetworkEndpoint endpoint)
    {
        var key = endpoint.WithPort(0);
        if (_texts.TryGetValue(key, out var text))
        {
            return text;
        }

        if (_texts.Count >= MaxEntries)
        {
            _texts.Clear();
        }

        text = key.AddressText;
        _texts.Add(key, text);
        return text;
    }
}
