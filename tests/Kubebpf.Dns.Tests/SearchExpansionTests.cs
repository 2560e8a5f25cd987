using Kubebpf.Dns.Search;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;
using static Kubebpf.Dns.Tests.DnsHarness;

namespace Kubebpf.Dns.Tests;

public class SearchExpansionTests
{
    private static readonly string[] Kubernetes = ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"];

    [Fact]
    public void A_glibc_walk_marks_every_candidate_but_the_last_and_counts_no_error()
    {
        var dns = new DnsHarness(new DnsOptions { SearchDomains = Kubernetes, ReadPodResolvConf = false });
        var time = 0L;
        // A and AAAA per candidate, each candidate from a new socket, as glibc sends them.
        ushort port = 40000;
        foreach (var candidate in Kubernetes.Select(d => "api.example.com." + d).Append("api.example.com"))
        {
            var flow = dns.Udp(Flow(port: port++));
            Send(flow, DnsWire.Query(1, candidate), time += 10);
            Send(flow, DnsWire.Query(2, candidate, DnsWire.Aaaa), time += 10);
            var found = candidate == "api.example.com";
            Send(flow, DnsWire.Answer(1, candidate, DnsWire.A, found ? 0 : 3, found ? [DnsWire.Address("10.9.9.9")] : []), time += 10, StreamSide.Server);
            Send(flow, DnsWire.Answer(2, candidate, DnsWire.Aaaa, found ? 0 : 3), time += 10, StreamSide.Server);
        }

        Assert.Equal(8, dns.Exchanges.Count);
        var expansions = dns.Exchanges.Where(e => ((DnsDetails)e.Details!).SearchExpansion).ToList();
        Assert.Equal(6, expansions.Count);
        Assert.All(expansions, e => Assert.Equal(("NXDOMAIN", ExchangeOutcome.Success), (e.Status, e.Outcome)));
        Assert.DoesNotContain(dns.Exchanges, e => e.Outcome != ExchangeOutcome.Success);
        Assert.Equal(6, dns.Metrics.Value("search_expansions"));
        Assert.Equal(0, dns.State.Expansions.Clients);
    }

    [Fact]
    public void A_candidate_not_followed_within_the_window_counts_as_it_is()
    {
        var dns = new DnsHarness(new DnsOptions { SearchDomains = ["corp.example"], ReadPodResolvConf = false });
        var flow = dns.Udp();
        Send(flow, DnsWire.Query(1, "printer.corp.example"), 0);
        Send(flow, DnsWire.Answer(1, "printer.corp.example", DnsWire.A, 3), 100, StreamSide.Server);

        Assert.Empty(dns.Exchanges);
        Assert.True(flow.OnTick(Second), "held until the window closes");
        Assert.False(flow.OnTick(Second + 100));
        var exchange = Assert.Single(dns.Exchanges);
        Assert.Equal((ExchangeOutcome.ClientError, false), (exchange.Outcome, ((DnsDetails)exchange.Details!).SearchExpansion));
    }

    [Fact]
    public void Held_answers_are_bounded_by_client_and_leave_with_their_flow()
    {
        var dns = new DnsHarness(new DnsOptions { SearchDomains = ["corp.example"], ReadPodResolvConf = false, MaxExpansionClients = 1 });
        var first = dns.Udp(Flow(client: "10.1.0.5"));
        var second = dns.Udp(Flow(client: "10.1.0.6"));
        Send(first, DnsWire.Query(1, "a.corp.example"), 0);
        Send(second, DnsWire.Query(1, "b.corp.example"), 0);
        Send(first, DnsWire.Answer(1, "a.corp.example", DnsWire.A, 3), 10, StreamSide.Server);
        Send(second, DnsWire.Answer(1, "b.corp.example", DnsWire.A, 3), 10, StreamSide.Server);

        Assert.Equal("b.corp.example", Assert.Single(dns.Exchanges).Resource);
        Assert.Equal((1, 1L), (dns.State.Expansions.Clients, dns.Metrics.Value("expansions_untracked")));
        first.OnClose(20);
        Assert.Equal(["b.corp.example", "a.corp.example"], dns.Exchanges.Select(e => e.Resource));
        Assert.Equal(0, dns.State.Expansions.Clients);
    }

    [Fact]
    public void Another_client_s_query_or_an_unrelated_name_does_not_mark_an_answer()
    {
        var dns = new DnsHarness(new DnsOptions { SearchDomains = Kubernetes, ReadPodResolvConf = false });
        var first = dns.Udp(Flow(client: "10.1.0.5"));
        Send(first, DnsWire.Query(1, "web.shop.svc.cluster.local"), 0);
        Send(first, DnsWire.Answer(1, "web.shop.svc.cluster.local", DnsWire.A, 3), 10, StreamSide.Server);
        Send(dns.Udp(Flow(client: "10.1.0.6")), DnsWire.Query(1, "web.svc.cluster.local"), 20);
        Send(dns.Udp(Flow(client: "10.1.0.5", port: 40001)), DnsWire.Query(1, "db.svc.cluster.local"), 30);
        Send(dns.Udp(Flow(client: "10.1.0.5", port: 40002, iface: "veth-b")), DnsWire.Query(1, "web.svc.cluster.local"), 40);

        first.OnTick(2 * Second);
        Assert.False(((DnsDetails)Assert.Single(dns.Exchanges).Details!).SearchExpansion);
    }

    [Fact]
    public void On_a_resolver_s_veth_the_configured_list_applies_not_the_resolver_pod_s_own()
    {
        var dns = new DnsHarness(new DnsOptions { SearchDomains = ["configured.example"] }, _ => ["resolver-pod.example"]);
        var domains = dns.State.Expansions.Domains;

        Assert.Equal(["configured.example"], domains.For(Flow(direction: TrafficDirection.In), 0));
        Assert.Equal(0, domains.FromPods);
    }

    [Theory]
    [InlineData("web.a.example", "web.b.example", true)]
    [InlineData("web.a.example", "web", true)]
    [InlineData("web.b.example", "web.a.example", false)]
    [InlineData("web.a.example", "web.a.example", false)]
    [InlineData("web.a.example", "web.c.example", false)]
    [InlineData("x.web.a.example", "x.web", true)]
    public void The_next_candidate_is_a_later_search_domain_or_the_name_itself(string answered, string query, bool next)
    {
        Assert.Equal(next, SearchExpansions.IsNextCandidate(answered, ["a.example", "b.example"], query));
    }

    [Fact]
    public void Resolv_conf_search_lists_follow_the_last_search_or_domain_line()
    {
        Assert.Equal(["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"], ResolvConf.SearchDomains("""
            nameserver 10.96.0.10
            domain old.example
            search shop.svc.cluster.local svc.cluster.local. Cluster.Local
            options ndots:5
            """));
        Assert.Equal(["old.example"], ResolvConf.SearchDomains("search a.example\ndomain old.example\n"));
        Assert.Empty(ResolvConf.SearchDomains("nameserver 10.0.0.1\n"));
    }

    [Fact]
    public void A_pod_s_resolv_conf_replaces_the_configured_domains_once_looked_up()
    {
        var lookups = 0;
        var dns = new DnsHarness(
            new DnsOptions { SearchDomains = ["configured.example"] },
            iface => { Interlocked.Increment(ref lookups); return iface == "veth-a" ? ["pod.example"] : null; });
        var domains = dns.State.Expansions.Domains;

        Assert.Equal(["configured.example"], domains.For("veth-a", 0));
        Kubebpf.Testing.Poll.Until(() => domains.For("veth-a", 1)[0] == "pod.example", "the background lookup");
        Assert.Equal(1, domains.FromPods);
        Assert.Equal(1, Volatile.Read(ref lookups));
    }
}
