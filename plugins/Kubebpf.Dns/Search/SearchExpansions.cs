using Kubebpf.Dns.Streams;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Dns.Search;

/// <summary>
/// Marks search-path expansion (a resolver trying <c>name.&lt;domain&gt;</c> for each domain of the client's search list,
/// as Kubernetes' <c>ndots:5</c> makes it do): a negative answer (NXDOMAIN, or NOERROR without answers) for
/// <c>base.&lt;domain i&gt;</c> is held until the same client (interface and address) asks for <c>base.&lt;domain j&gt;</c>,
/// j &gt; i, or for <c>base</c> itself: then it is an expansion, not an error. Held answers wait at most
/// <see cref="DnsOptions.SearchExpansionWindow"/> (their flow's tick emits them as they are), and at most
/// <see cref="DnsOptions.MaxExpansionClients"/> clients hold answers at once. Capture thread only.
/// </summary>
internal sealed class SearchExpansions(DnsOptions options, SearchDomains domains, DnsCounters counters)
{
    /// <summary>A glibc walk holds two (A and AAAA); more held by one client release the oldest as it is.</summary>
    private const int MaxHeldPerClient = 16;

    private readonly Dictionary<SearchClient, List<HeldAnswer>> _clients = [];
    private readonly long _windowNs = (long)options.SearchExpansionWindow.TotalNanoseconds;

    public SearchDomains Domains => domains;

    /// <summary>Clients holding answers now.</summary>
    public int Clients => _clients.Count;

    /// <summary>Holds <paramref name="exchange"/>, a negative answer to <paramref name="owner"/>'s query, when its name is a search-path candidate of its client.</summary>
    public HeldAnswer? TryHold(in FlowIdentity flow, DnsConversation owner, in ParsedExchange exchange, long nowNs)
    {
        var searchList = domains.For(flow, nowNs);
        if (!IsCandidate(exchange.Resource, searchList))
        {
            return null;
        }

        var client = Client(flow);
        if (!_clients.TryGetValue(client, out var held))
        {
            if (_clients.Count >= options.MaxExpansionClients)
            {
                counters.ExpansionsUntracked.Increment();
                return null;
            }

            _clients[client] = held = new List<HeldAnswer>(2);
        }
        else if (held.Count >= MaxHeldPerClient)
        {
            held[0].Owner.Release(held[0], expansion: false);
        }

        var answer = new HeldAnswer(owner, exchange, searchList, client, nowNs + _windowNs);
        held.Add(answer);
        return answer;
    }

    /// <summary>A query for <paramref name="name"/> from <paramref name="flow"/>'s client: the held answers it follows are expansions.</summary>
    public void OnQuery(in FlowIdentity flow, string name)
    {
        if (_clients.Count == 0 || !_clients.TryGetValue(Client(flow), out var held))
        {
            return;
        }

        // Backwards: a release removes its answer from this list.
        for (var i = held.Count - 1; i >= 0; i--)
        {
            if (i < held.Count && IsNextCandidate(held[i], name))
            {
                held[i].Owner.Release(held[i], expansion: true);
            }
        }
    }

    /// <summary>Forgets a held answer its owner emitted.</summary>
    public void Forget(HeldAnswer answer)
    {
        if (_clients.TryGetValue(answer.Client, out var held) && held.Remove(answer) && held.Count == 0)
        {
            _clients.Remove(answer.Client);
        }
    }

    /// <summary>Whether <paramref name="name"/> is <c>base.&lt;domain&gt;</c> for a domain of <paramref name="searchList"/>.</summary>
    internal static bool IsCandidate(string name, string[] searchList)
    {
        foreach (var domain in searchList)
        {
            if (HasSuffix(name, domain))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="query"/> is a later candidate of the walk <paramref name="answer"/>'s name belongs to.</summary>
    internal static bool IsNextCandidate(HeldAnswer answer, string query) => IsNextCandidate(answer.Exchange.Resource, answer.Domains, query);

    internal static bool IsNextCandidate(string answered, string[] searchList, string query)
    {
        for (var i = 0; i < searchList.Length; i++)
        {
            if (!HasSuffix(answered, searchList[i]))
            {
                continue;
            }

            var stem = answered.AsSpan(0, answered.Length - searchList[i].Length - 1);
            if (query.AsSpan().Equals(stem, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            for (var j = i + 1; j < searchList.Length; j++)
            {
                var domain = searchList[j];
                if (query.Length == stem.Length + 1 + domain.Length
                    && query.AsSpan(0, stem.Length).Equals(stem, StringComparison.OrdinalIgnoreCase)
                    && HasSuffix(query, domain))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool HasSuffix(string name, string domain) =>
        name.Length > domain.Length + 1
        && name[name.Length - domain.Length - 1] == '.'
        && name.AsSpan(name.Length - domain.Length).Equals(domain, StringComparison.OrdinalIgnoreCase);

    private static SearchClient Client(in FlowIdentity flow) => new(flow.Interface, flow.Client.Canonical().WithPort(0));
}
