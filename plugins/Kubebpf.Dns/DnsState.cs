using Kubebpf.Dns.Names;
using Kubebpf.Dns.Search;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Dns;

/// <summary>What the UDP and TCP sides of the plugin share: options, counters, the learned names and the search-path marking.</summary>
internal sealed class DnsState
{
    public DnsState(DnsOptions options, IAgentMetrics metrics, Func<string, string[]?>? resolvConfLookup)
    {
        Options = options;
        Counters = new DnsCounters(metrics);
        Names = new LearnedNames(options, Counters.NamesDropped);
        Expansions = new SearchExpansions(options, new SearchDomains(options, resolvConfLookup), Counters);
        TimeoutNs = (long)options.Timeout.TotalNanoseconds;
        Match = new ProtocolMatch(options.ResolverPorts, options.Sniff);
        metrics.Gauge("learned_names", "addresses named from answers, held now (expired ones included until swept)", () => Names.Count);
        metrics.Gauge("resolv_conf_pods", "client interfaces whose search list was read from their pod's resolv.conf", () => Expansions.Domains.FromPods);
    }

    public DnsOptions Options { get; }

    public DnsCounters Counters { get; }

    public LearnedNames Names { get; }

    public SearchExpansions Expansions { get; }

    public long TimeoutNs { get; }

    public ProtocolMatch Match { get; }
}
