using Kubebpf.Sdk.Net;

namespace Kubebpf.Red.CallLog;

/// <summary>
/// The text of endpoints (<c>10.1.0.2:80</c>, or the address alone for port 0), cached: keep-alive connections and
/// servers repeat them on every exchange, and formatting goes through an <see cref="System.Net.IPAddress"/> each time.
/// Bounded (cleared when full). Not thread-safe.
/// </summary>
internal sealed class EndpointTexts
{
    private const int MaxEntries = 16384;
    private readonly Dictionary<NetworkEndpoint, string> _texts = [];

    public string Text(NetworkEndpoint endpoint)
    {
        if (_texts.TryGetValue(endpoint, out var text))
        {
            return text;
        }

        text = endpoint.Port == 0 ? endpoint.AddressText : endpoint.ToString();
        if (_texts.Count >= MaxEntries)
        {
            _texts.Clear();
        }

        _texts.Add(endpoint, text);
        return text;
    }
}
