using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests.Dns;

/// <summary>Every query of <c>deploy/grafana/dashboards/dns.json</c>, run the way Grafana would against what the agent wrote.</summary>
internal static class DnsDashboard
{
    public static async Task AssertQueriesAsync(InfluxDbServer influx, AgentScenario scenario, DnsResolverPod resolver)
    {
        var file = Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "dashboards", "dns.json");
        var variables = new Dictionary<string, string?> { ["namespace"] = AgentScenario.Namespace, ["workload"] = null, ["pod"] = null };
        var now = DateTimeOffset.UtcNow;
        var results = new Dictionary<string, IReadOnlyList<InfluxRow>>();
        foreach (var (name, query) in GrafanaQuery.Queries(await File.ReadAllTextAsync(file)))
        {
            var rows = await influx.QueryAsync(scenario.Database, GrafanaQuery.Substitute(query, variables, now.AddMinutes(-10), now.AddMinutes(1), "10s"));
            Assert.True(rows.Count > 0, $"{name} returned nothing: {query}");
            results[name] = rows;
        }

        Assert.Equal(11, results.Count);
        Assert.Equal(
            [scenario.ClientPod, scenario.ExtraPod(2), scenario.ServerPod],
            results["variable pod"].Select(r => r.Values["value"].GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(
            [scenario.ClientPod, scenario.ExtraPod(2)],
            results["panel 'Queries/s per pod' A"].Select(r => r.Tags["pod"]).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal([scenario.ServerPod], results["panel 'Queries/s per resolver' A"].Select(r => r.Tags["pod"]).Distinct());
        Assert.Equal([AgentScenario.ServerWorkload], results["panel 'Latency per resolver (as clients see it)' A"].Select(r => r.Tags["peer_workload"]).Distinct());
        Assert.All(results["panel 'Latency p50 / p99 per pod' A"], r => Assert.InRange(r.Values["p99"].GetDouble(), 0.001, 3000));

        var failed = results["panel 'Failed queries by response code' A"].GroupBy(r => r.Tags["rcode"]).ToDictionary(g => g.Key, g => g.Sum(r => r.Values["queries"].GetInt64()));
        Assert.Equal(10, failed["REFUSED"]);
        Assert.InRange(failed["NXDOMAIN"], 10, 20); // the client's 10, and the walker's warm-up walk (read before its search list was known)
        Assert.Equal(["NXDOMAIN", "REFUSED"], failed.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0, results["panel 'Timeouts' A"].Sum(r => r.Values["timeouts"].GetInt64()));

        var top = results["panel 'Top NXDOMAIN names' A"];
        Assert.Equal(10, top.Count);
        Assert.All(top, r => Assert.Matches(@"^(nx\d+\.kb\.test|warmup\.kb\.test.*)$", r.Values["qname"].GetString()));
        var slow = results["panel 'Slow or failed queries' A"];
        Assert.Equal(10, slow.Count(r => r.Values["rcode"].GetString() == "REFUSED" && r.Values["pod"].GetString() == scenario.ClientPod));
        Assert.DoesNotContain(slow, r => r.Values["qname"].GetString()!.StartsWith(DnsResolverPod.Web + ".", StringComparison.Ordinal));
        Assert.Contains(slow, r => r.Values["server"].GetString() == $"{resolver.Pod.IPv4}:53");
    }
}
