using System.Globalization;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Integration.Tests.Dns;

/// <summary>
/// Learned names end to end: a pod resolves a name through a real resolver (dnsmasq in a pod), then calls the address
/// it got, which no metadata names; the DNS plugin's learned name table names that peer in the service map and in the
/// call log (<c>peer_name</c>).
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class LearnedNameTests(InfluxDbServer influx, ITestOutputHelper output)
{
    private const string ExternalName = "shop-api.partner.kb.test";
    private const int Requests = 25;

    [Fact]
    public async Task The_service_map_and_the_call_log_name_an_unknown_address_by_the_name_the_client_resolved()
    {
        await using var scenario = AgentScenario.Create(influx, extraPods: 1);
        // The "external" server: nginx in a pod of its own, on an address no metadata names, behind a veth the agent does not observe.
        var outside = scenario.Pods.Pods[2];
        var address = string.Create(CultureInfo.InvariantCulture, $"10.213.{scenario.Pods.Subnet}.200");
        NetworkPods.Exec(outside, $"ip addr add {address}/24 dev eth0");
        using var nginx = PodNginx.Start(scenario.Pods, outside, TrafficPlan.NginxLocations);
        var resolver = DnsResolverPod.Start(scenario, hostRecords: new Dictionary<string, string> { [ExternalName] = address });
        var observed = new[] { scenario.Server.HostInterface, scenario.Client.HostInterface };
        var snapshot = Path.Combine(scenario.WorkDirectory, "service-map.json");
        await scenario.StartAgentAsync(new Dictionary<string, object>
        {
            ["Capture"] = new { Interfaces = observed, PeerSideInterfaces = observed },
            ["Dns"] = new { },
            ["ServiceMap"] = new { NodeName = "e2e-node", SnapshotFile = snapshot },
        });

        // As an application does: resolve the name, then call the address the answer gave.
        var resolved = NetworkPods.Exec(scenario.Client, $"dig +short +tries=1 +timeout=3 @{resolver.Pod.IPv4} {ExternalName} A").Output.Trim();
        Assert.Equal(address, resolved);
        var statuses = NetworkPods.Exec(scenario.Client, $"curl -s -o /dev/null -w '%{{http_code}}\\n' 'http://{resolved}/ok?i=[1-{Requests}]'").Output;
        Assert.Equal(Requests, statuses.Split('\n').Count(s => s.Trim() == "200"));
        Assert.Equal(Requests, (await nginx.ReadAccessLogAsync(Requests, TimeSpan.FromSeconds(10))).Count);

        var edge = $"{AgentScenario.Namespace}/{AgentScenario.ClientWorkload}->{ExternalName}";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        IReadOnlyList<InfluxRow> calls;
        while ((calls = await scenario.QueryAsync("SELECT sum(\"requests\") AS \"requests\" FROM \"service_map_calls\" WHERE \"protocol\" = 'http' GROUP BY \"edge\"")).Sum(r => r.Values["requests"].GetInt64()) < Requests)
        {
            Assert.True(DateTime.UtcNow < deadline, $"service_map_calls: {Describe(calls)}, {Requests} http calls expected");
            await Task.Delay(200);
        }

        Assert.Equal(0, await scenario.StopAgentAsync());
        calls = await scenario.QueryAsync("SELECT sum(\"requests\") AS \"requests\" FROM \"service_map_calls\" WHERE \"protocol\" = 'http' GROUP BY \"edge\"");
        Assert.Equal($"{edge}={Requests}", Describe(calls));

        // The call log names the peer the same way: the client's calls, seen leaving its veth, carry the learned name.
        var outbound = await scenario.PointsAsync("http_requests", $"WHERE direction = 'out' AND pod = '{scenario.ClientPod}'");
        Assert.Equal(Requests, outbound.Count);
        Assert.All(outbound, p => Assert.Equal((ExternalName, address), (p["peer_name"].GetString(), p["peer_ip"].GetString())));

        // The same edge from the command line, from the snapshot the agent left.
        var map = KernelTest.Run(Path.Combine(RepositoryPaths.PublishedAgent, "kubebpf"), "map", "--config", Path.Combine(scenario.WorkDirectory, "kubebpf.json"));
        Assert.Matches($@"shop/client\s+->\s+{ExternalName.Replace(".", "\\.", StringComparison.Ordinal)}\s+{Requests}\s", map);
        output.WriteLine($"dig {ExternalName} -> {resolved}; {Requests} curl calls to {resolved}: service_map_calls {Describe(calls)}; http_requests out with peer_name={ExternalName}: {outbound.Count}");
        output.WriteLine(map);
    }

    private static string Describe(IReadOnlyList<InfluxRow> rows) =>
        string.Join(", ", rows.Select(r => $"{r.Tags["edge"]}={r.Values["requests"].GetInt64()}"));
}
