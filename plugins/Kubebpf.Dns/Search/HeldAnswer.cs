using Kubebpf.Dns.Streams;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Dns.Search;

/// <summary>The client of a search-path walk: its interface and address (each candidate comes from a new socket).</summary>
internal readonly record struct SearchClient(string Interface, NetworkEndpoint Address);

/// <summary>A negative answer for <c>name.&lt;search domain&gt;</c>, held until the client sends its next candidate or the window closes.</summary>
internal sealed class HeldAnswer(DnsConversation owner, in ParsedExchange exchange, string[] domains, SearchClient client, long deadlineNs)
{
    public DnsConversation Owner { get; } = owner;

    public ParsedExchange Exchange { get; } = exchange;

    /// <summary>The client's search list when the answer came.</summary>
    public string[] Domains { get; } = domains;

    public SearchClient Client { get; } = client;

    public long DeadlineNs { get; } = deadlineNs;
}
