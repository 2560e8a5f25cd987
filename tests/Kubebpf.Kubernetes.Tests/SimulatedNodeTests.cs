using System.Diagnostics;
using Kubebpf.Testing;
using Xunit.Abstractions;
using static Kubebpf.Kubernetes.Tests.FakeKubernetesApi;

namespace Kubebpf.Kubernetes.Tests;

/// <summary>
/// A Kubernetes node simulated on this machine: network-namespace pods on a bridge whose server processes sit in
/// kubelet-shaped cgroups, described by the API fake. The published agent runs in Kubernetes mode (Http, Red,
/// InfluxDb and Kubernetes plugins, a kubeconfig pointing at the fake) and writes to a real InfluxDB 1.6; then every
/// query of every dashboard in deploy/grafana/dashboards runs against what it wrote.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class SimulatedNodeTests(InfluxDbServer influx, ITestOutputHelper output) : IClassFixture<InfluxDbServer>
{
    private const string NodeName = "sim-node";
    private const string Database = "kubebpf";
    private const string FrontendUid = "5e0c1a2b-0000-4000-8000-00000000f001";
    private const string ApiUid = "5e0c1a2b-0000-4000-8000-00000000a001";
    private const string UsersUid = "5e0c1a2b-0000-4000-8000-00000000b001";
    private const string Frontend = "frontend-6f7c9d8b5-q2x4m";
    private const string Api = "api-7c6d5b9f8-m4n8r";
    private const string Users = "users-0";
    // One GROUP BY time() bucket over the whole run, so that ratios are exact (Grafana picks any interval it likes).
    private const string Interval = "3650d";
    private const string Locations = """
        location = /ok { return 200 "ok"; }
        location = /missing { return 404 "no"; }
        location = /fail { return 500 "boom"; }
        """;

    [Fact]
    public async Task The_agent_in_kubernetes_mode_names_both_ends_picks_up_a_new_pod_drops_a_deleted_one_and_feeds_every_dashboard_query()
    {
        using var pods = NetworkPods.Create(3);
        using var cgroups = new KubeletCgroups();
        await using var api = await FakeKubernetesApi.StartAsync();
        var work = Directory.CreateTempSubdirectory("kubebpf-simnode-").FullName;
        var (frontend, server, late) = (pods.Pods[0], pods.Pods[1], pods.Pods[2]);

        // The frontend pod's "pause" process, the two servers, each in its pod's cgroup.
        cgroups.Add(FrontendUid, pods.Start(frontend, "sleep", "600").Id);
        using var serverNginx = PodNginx.Start(pods, server, Locations);
        cgroups.Add(ApiUid, serverNginx.Process.Id);
        using var lateNginx = PodNginx.Start(pods, late, Locations);
        cgroups.Add(UsersUid, lateNginx.Process.Id);

        api.Apply(ReplicaSets, Objects.ReplicaSet("shop", "frontend-6f7c9d8b5", "frontend"));
        api.Apply(ReplicaSets, Objects.ReplicaSet("shop", "api-7c6d5b9f8", "api"));
        api.Apply(Pods, Objects.Pod("shop", Frontend, FrontendUid, NodeName, frontend.IPv4, ("ReplicaSet", "frontend-6f7c9d8b5"), ipv6: frontend.IPv6));
        api.Apply(Pods, Objects.Pod("shop", Api, ApiUid, NodeName, server.IPv4, ("ReplicaSet", "api-7c6d5b9f8"), ipv6: server.IPv6));
        api.Apply(Services, Objects.Service("shop", "api", "10.96.0.10"));
        api.Apply(Services, Objects.Service("shop", "users", "10.96.0.11"));
        api.Apply(EndpointSlices, Objects.EndpointSlice("shop", "api", (server.IPv4, Api, NodeName)));

        var agent = AgentProcess.Start(Configuration(api.WriteKubeConfig(work), pods.Prefix), work);
        try
        {
            await agent.WaitForLogAsync("Capture attached to", TimeSpan.FromSeconds(30));
            await agent.WaitForLogAsync($"Pod {FrontendUid}: host interface {frontend.HostInterface} ", TimeSpan.FromSeconds(10));
            await agent.WaitForLogAsync($"Pod {ApiUid}: host interface {server.HostInterface} ", TimeSpan.FromSeconds(10));
            var started = DateTimeOffset.UtcNow;

            Calls(frontend, server, ("/ok", 5), ("/missing", 3), ("/fail", 2));

            // A pod added mid-run: observed and named within 5 s of the API announcing it.
            var announced = Stopwatch.StartNew();
            api.Apply(Pods, Objects.Pod("shop", Users, UsersUid, NodeName, late.IPv4, ("StatefulSet", "users"), ipv6: late.IPv6));
            api.Apply(EndpointSlices, Objects.EndpointSlice("shop", "users", (late.IPv4, Users, NodeName)));
            await agent.WaitForLogAsync($"Pod {UsersUid}: host interface {late.HostInterface} ", TimeSpan.FromSeconds(5));
            output.WriteLine($"new pod's interface found {announced.ElapsedMilliseconds} ms after the API announced it");
            Calls(frontend, late, ("/ok", 3));

            // A deleted pod: the API deletes it, the CNI its veth; the agent forgets the pod and releases the interface.
            api.Delete(Pods, "shop", Api);
            await RunAsync("ip", "link", "del", server.HostInterface);
            await agent.WaitForLogAsync($"Released interface {server.HostInterface}", TimeSpan.FromSeconds(10));
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // one more flush with the pod gone
            Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(30)));

            await AssertCallLogAsync(frontend);
            await AssertDashboardsAsync(started.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        }
        finally
        {
            agent.Dispose();
            Directory.Delete(work, recursive: true);
        }
    }

    private async Task AssertCallLogAsync(Pod frontend)
    {
        // Both ends named on both sides: the frontend's outbound calls and the servers' inbound ones.
        var outbound = await influx.QueryAsync(Database,
            "SELECT count(\"duration_ns\") FROM \"http_requests\" WHERE \"direction\" = 'out' GROUP BY \"node\", \"namespace\", \"pod\", \"workload_kind\", \"workload\", \"peer_pod\", \"peer_workload\", \"peer_service\", \"status_class\"");
        Assert.Equal(
            [
                $"{NodeName} shop {Frontend} Deployment/frontend -> {Api} api api 2xx: 5",
                $"{NodeName} shop {Frontend} Deployment/frontend -> {Api} api api 4xx: 3",
                $"{NodeName} shop {Frontend} Deployment/frontend -> {Api} api api 5xx: 2",
                $"{NodeName} shop {Frontend} Deployment/frontend -> {Users} users users 2xx: 3",
            ],
            Describe(outbound));
        var inbound = await influx.QueryAsync(Database,
            "SELECT count(\"duration_ns\") FROM \"http_requests\" WHERE \"direction\" = 'in' GROUP BY \"node\", \"namespace\", \"pod\", \"workload_kind\", \"workload\", \"peer_pod\", \"peer_workload\", \"peer_service\", \"status_class\"");
        Assert.Equal(
            [
                $"{NodeName} shop {Api} Deployment/api -> {Frontend} frontend  2xx: 5",
                $"{NodeName} shop {Api} Deployment/api -> {Frontend} frontend  4xx: 3",
                $"{NodeName} shop {Api} Deployment/api -> {Frontend} frontend  5xx: 2",
                $"{NodeName} shop {Users} StatefulSet/users -> {Frontend} frontend  2xx: 3",
            ],
            Describe(inbound));
        var peerIps = await influx.QueryAsync(Database, $"SELECT \"peer_ip\" FROM \"http_requests\" WHERE \"pod\" = '{Api}'");
        Assert.Equal([frontend.IPv4], peerIps.Select(r => r.Values["peer_ip"].GetString()).Distinct());
        var kubernetes = await influx.QueryAsync(Database, "SELECT last(\"local_pods\") AS \"pods\", last(\"pods_without_interface\") AS \"missing\" FROM \"kubebpf_agent\" WHERE \"component\" = 'Kubernetes'");
        Assert.Equal((2, 0), (kubernetes[0].Values["pods"].GetInt64(), kubernetes[0].Values["missing"].GetInt64()));
    }

    private async Task AssertDashboardsAsync(DateTimeOffset from, DateTimeOffset to)
    {
        var variables = new Dictionary<string, string?>
        {
            ["namespace"] = "shop", ["workload"] = "api", ["pod"] = null, ["direction"] = "in", ["node"] = NodeName,
            ["status"] = "5xx", ["path_prefix"] = "/fa", ["peer"] = "frontend",
        };
        var folder = Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "dashboards");
        var results = new Dictionary<string, IReadOnlyList<InfluxRow>>();
        // The HTTP dashboards; the others are fed and checked by their protocols' kernel tests (Kubebpf.Integration.Tests; the CPU profile in Kubebpf.Profiler.Tests).
        string[] fedElsewhere = ["cpu-profile.json", "dns.json", "mysql.json"];
        foreach (var file in Directory.GetFiles(folder, "*.json").Where(f => !fedElsewhere.Contains(Path.GetFileName(f))).Order(StringComparer.Ordinal))
        {
            foreach (var (name, query) in GrafanaQuery.Queries(File.ReadAllText(file)))
            {
                var rows = await influx.QueryAsync(Database, GrafanaQuery.Substitute(query, variables, from, to, Interval));
                var key = $"{Path.GetFileNameWithoutExtension(file)}: {name}";
                Assert.True(rows.Count > 0, $"{key} returned nothing: {query}");
                results[key] = rows;
            }
        }

        Assert.Equal(20, results.Count); // the service map's queries are checked in detail by the integration tests
        Assert.Equal(["shop"], Column(results["red-overview: variable namespace"], "value"));
        Assert.Equal(["api", "frontend", "users"], Column(results["red-overview: variable workload"], "value"));
        Assert.Equal([Api], Column(results["red-overview: variable pod"], "value"));
        Assert.Equal([("api", "in")], results["red-overview: panel 'Request rate' A"].Select(r => (r.Tags["workload"], r.Tags["direction"])).Distinct());
        var errors = results["red-overview: panel 'Error rate (5xx and 4xx)' A"];
        Assert.Equal([(0.2, 0.3)], errors.Select(r => (Math.Round(r.Values["5xx"].GetDouble(), 6), Math.Round(r.Values["4xx"].GetDouble(), 6))));
        Assert.All(results["red-overview: panel 'Latency p50 / p90 / p99 (slowest pod)' A"], r => Assert.InRange(r.Values["p99"].GetDouble(), 0.001, 1000));
        Assert.Equal(
            ["GET /fail: 2 requests, 2 5xx, 0 4xx", "GET /missing: 3 requests, 0 5xx, 3 4xx", "GET /ok: 5 requests, 0 5xx, 0 4xx"],
            results["red-overview: panel 'Top routes' A"].Select(r =>
                $"{r.Tags["method"]} {r.Tags["route"]}: {r.Values["requests"].GetInt64()} requests, {r.Values["errors_5xx"].GetInt64()} 5xx, {r.Values["errors_4xx"].GetInt64()} 4xx").Order(StringComparer.Ordinal));

        var calls = results["call-log: panel 'Calls' A"];
        Assert.Equal([("/fail", 500, Frontend, "frontend"), ("/fail", 500, Frontend, "frontend")],
            calls.Select(r => (r.Values["path"].GetString(), r.Values["status"].GetInt32(), r.Values["peer_pod"].GetString(), r.Values["peer_workload"].GetString())));

        var states = results["agent-health: panel 'Plugin states (1 running, 0 stopped or failed)' A"];
        Assert.Equal(["Capture: 1", "Http: 1", "InfluxDb: 1", "Kubernetes: 1", "Red: 1", "ServiceMap: 1"],
            states.Where(r => r.Tags["component"] != "agent").Select(r => $"{r.Tags["component"]}: {r.Values["running"].GetInt64()}").Order(StringComparer.Ordinal));
        Assert.Contains(results["agent-health: panel 'Sink buffer fill' A"], r => r.Tags["component"] == "InfluxDb");
        Assert.Contains(results["agent-health: panel 'Data lost, by counter' A"], r => r.Tags["component"] == "InfluxDb");
        Assert.Contains(results["agent-health: panel 'Sink errors' A"], r => r.Tags["component"] == "InfluxDb" && r.Values["write_errors"].GetInt64() == 0);
    }

    private static List<string> Describe(IReadOnlyList<InfluxRow> rows) =>
    [
        .. rows.Select(r =>
            $"{r.Tags["node"]} {r.Tags["namespace"]} {r.Tags["pod"]} {r.Tags["workload_kind"]}/{r.Tags["workload"]} -> {r.Tags["peer_pod"]} {r.Tags["peer_workload"]} {r.Tags["peer_service"]} {r.Tags["status_class"]}: {r.Values["count"].GetInt64()}")
            .Order(StringComparer.Ordinal),
    ];

    private static List<string> Column(IReadOnlyList<InfluxRow> rows, string column) =>
        [.. rows.Select(r => r.Values[column].GetString()!).Order(StringComparer.Ordinal)];

    private object Configuration(string kubeConfig, string prefix) => new
    {
        Agent = new { PluginDirectories = new[] { Path.Combine(RepositoryPaths.PublishedAgent, "plugins") }, FlushInterval = "00:00:01", NodeName },
        Plugins = new Dictionary<string, object>
        {
            ["Kubernetes"] = new { NodeName, KubeConfig = kubeConfig, InterfaceScanInterval = "00:00:00.500" },
            ["Capture"] = new { Interfaces = new[] { prefix + "h*" }, PeerSideInterfaces = new[] { prefix + "h*" }, RescanInterval = "00:00:00.500" },
            ["Http"] = new { },
            ["Red"] = new { },
            ["ServiceMap"] = new { NodeName, SnapshotFile = "" },
            ["InfluxDb"] = new { Url = influx.Url, Database, Buffer = new { FlushInterval = "00:00:00.200" } },
        },
        Logging = new { LogLevel = new { Default = "Information" } },
    };

    private static void Calls(Pod client, Pod server, params (string Path, int Count)[] requests)
    {
        foreach (var (path, count) in requests)
        {
            for (var i = 0; i < count; i++)
            {
                NetworkPods.Exec(client, $"curl -s -o /dev/null --max-time 5 http://{server.IPv4}{path}");
            }
        }
    }

    private static async Task RunAsync(string file, params string[] arguments)
    {
        using var process = Process.Start(file, arguments);
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
    }
}
