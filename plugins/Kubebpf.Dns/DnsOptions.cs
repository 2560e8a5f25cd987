using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Dns;

/// <summary>The DNS parser plugin's section: which flows are DNS, the query timeout, the learned names and search-path marking.</summary>
public sealed class DnsOptions : IValidatedOptions
{
    /// <summary>Resolver ports: UDP flows and TCP connections on them are DNS. Empty (the default): 53.</summary>
    /// <remarks>Empty rather than [53] by default: the configuration binder appends a configured list to a default one.</remarks>
    public ushort[] Ports { get; set; } = [];

    /// <summary>The ports in effect: <see cref="Ports"/>, or 53.</summary>
    public IReadOnlyList<ushort> ResolverPorts => Ports.Length > 0 ? Ports : [53];

    /// <summary>Also recognise DNS on other ports by its header (a strict check; off by default).</summary>
    public bool Sniff { get; set; }

    /// <summary>A query unanswered this long becomes an exchange with status TIMEOUT (the glibc resolver's default).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Queries waiting for their answers on one flow; more are dropped and counted (<c>pending_overflow</c>).</summary>
    public int MaxPendingQueries { get; set; } = 64;

    /// <summary>Addresses named from answers at once (the learned name table); 0 turns learning off.</summary>
    public int MaxLearnedNames { get; set; } = 65536;

    /// <summary>The shortest time a learned name is kept, whatever the answer's TTL (Kubernetes answers live 5-30 s, connections longer).</summary>
    public TimeSpan MinNameLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Search domains of clients whose own <c>resolv.conf</c> is not found (the host, or <see cref="ReadPodResolvConf"/> off).</summary>
    public string[] SearchDomains { get; set; } = [];

    /// <summary>Read each pod's search list from <c>/proc/&lt;pid&gt;/root/etc/resolv.conf</c> of one of its processes.</summary>
    public bool ReadPodResolvConf { get; set; } = true;

    /// <summary>How often a pod's search list is read again.</summary>
    public TimeSpan ResolvConfRefresh { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a negative answer for <c>name.&lt;search domain&gt;</c> waits for the client's next candidate before it counts as an error.</summary>
    public TimeSpan SearchExpansionWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Clients with negative answers waiting for their next candidate at once; beyond it answers count as they are (<c>expansions_untracked</c>).</summary>
    public int MaxExpansionClients { get; set; } = 4096;

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (Ports.Contains((ushort)0))
        {
            yield return "Ports: 0 is not a port.";
        }

        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(5))
        {
            yield return $"Timeout must be positive and at most 5 minutes: {Timeout}.";
        }

        if (MaxPendingQueries is < 1 or > 65536)
        {
            yield return $"MaxPendingQueries must be between 1 and 65536: {MaxPendingQueries}.";
        }

        if (MaxLearnedNames is < 0 or > 10_000_000)
        {
            yield return $"MaxLearnedNames must be between 0 and 10000000: {MaxLearnedNames}.";
        }

        if (MinNameLifetime < TimeSpan.Zero)
        {
            yield return $"MinNameLifetime must not be negative: {MinNameLifetime}.";
        }

        if (SearchDomains.Any(d => string.IsNullOrWhiteSpace(d) || d.Trim('.').Length == 0))
        {
            yield return "SearchDomains: a domain must not be empty.";
        }

        if (ResolvConfRefresh <= TimeSpan.Zero)
        {
            yield return $"ResolvConfRefresh must be positive: {ResolvConfRefresh}.";
        }

        if (SearchExpansionWindow <= TimeSpan.Zero || SearchExpansionWindow >= Timeout)
        {
            yield return $"SearchExpansionWindow must be positive and shorter than Timeout: {SearchExpansionWindow}.";
        }

        if (MaxExpansionClients is < 1 or > 1_000_000)
        {
            yield return $"MaxExpansionClients must be between 1 and 1000000: {MaxExpansionClients}.";
        }
    }
}
