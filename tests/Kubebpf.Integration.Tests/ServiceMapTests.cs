using System.Globalization;
using System.Text.Json;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// The service map from real traffic between two pods on this node, both observed: every call and connection counted
/// once (by the client's side), with exact counts against what the clients themselves saw, and every query of the
/// service-map dashboards (InfluxQL and PromQL) run against what the agent wrote.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class ServiceMapTests(InfluxDbServer influx, PrometheusServer prometheus, ITestOutputHelper output) : IClassFixture<PrometheusServer>
{
    private const string Edge = $"{AgentScenario.Namespace}/{AgentScenario.ClientWorkload}->{AgentScenario.Namespace}/{AgentScenario.ServerWorkload}";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    // One echo per connection: read 1,000 bytes, send them back, close.
    private const string EchoServer = """
        import socket, sys
        server = socket.create_server(("0.0.0.0", int(sys.argv[1])), backlog=128)
        while True:
            connection, _ = server.accept()
            with connection:
                data = b""
                while len(data) < 1000:
                    chunk = connection.recv(1000 - len(data))
                    if not chunk:
                        break
                    data += chunk
                connection.sendall(data)
        """;

    // Prints "<echoed> <refused> <timed out>" for n echo connections, r connects to a closed port, t to a dropping one.
    private const string ConnectingClient = """
        import socket, sys
        host, echo_port, n, closed_port, r, dropped_port, t = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
        echoed = refused = timed_out = 0
        for _ in range(n):
            with socket.create_connection((host, echo_port), timeout=5) as s:
                s.sendall(b"e" * 1000)
                got = b""
                while len(got) < 1000:
                    chunk = s.recv(1000 - len(got))
                    if not chunk:
                        break
                    got += chunk
                echoed += len(got) == 1000
        for _ in range(r):
            try:
                socket.create_connection((host, closed_port), timeout=5).close()
            except ConnectionRefusedError:
                refused += 1
        for _ in range(t):
            try:
                socket.create_connection((host, dropped_port), timeout=1).close()
            except (socket.timeout, TimeoutError):
                timed_out += 1
        print(echoed, refused, timed_out)
        """;

    // Non-blocking connects to every port of a range, 500 at a time; prints how many were refused.
    private const string PortScan = """
        import errno, select, socket, sys
        host, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        refused = 0
        ports = list(range(first, last + 1))
        for start in range(0, len(ports), 500):
            pending = {}
            for port in ports[start:start + 500]:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex((host, port))
                pending[s] = port
            while pending:
                _, writable, _ = select.select([], list(pending), [], 5)
                if not writable:
                    break
                for s in writable:
                    refused += s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNREFUSED
                    del pending[s]
                    s.close()
            for s in pending:
                s.close()
        print(refused)
        """;

    [Fact]
    public async Task Calls_between_two_observed_pods_make_one_edge_counted_once_and_feed_every_dashboard_query()
    {
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
        var started = DateTimeOffset.UtcNow;
        await StartAsync(scenario, withPrometheus: true);

        // curl reuses its connection across a URL range: 200 OK and 20 failing requests on few connections.
        var ok = NetworkPods.Exec(scenario.Client, $"curl -s -o /dev/null -w '%{{http_code}} %{{num_connects}}\\n' 'http://{scenario.Server.IPv4}/ok?i=[1-200]'").Output;
        var failed = NetworkPods.Exec(scenario.Client, $"curl -s -o /dev/null -w '%{{http_code}} %{{num_connects}}\\n' 'http://{scenario.Server.IPv4}/fail?i=[1-20]'").Output;
        var lines = Lines(ok).Concat(Lines(failed)).Select(l => l.Split(' ')).ToList();
        Assert.Equal((200, 20), (lines.Count(l => l[0] == "200"), lines.Count(l => l[0] == "500")));
        var connects = lines.Sum(l => int.Parse(l[1], CultureInfo.InvariantCulture));

        await WaitForAsync(scenario, "SELECT sum(\"requests\") AS \"n\" FROM \"service_map_calls\"", 220);
        await WaitForAsync(scenario, "SELECT sum(\"connects\") AS \"n\" FROM \"service_map_connections\"", connects);
        await AssertPromQlDashboardAsync(scenario, connects);
        Assert.Equal(0, await scenario.StopAgentAsync());

        var calls = await scenario.QueryAsync("SELECT sum(\"requests\") AS \"requests\", sum(\"errors\") AS \"errors\" FROM \"service_map_calls\" GROUP BY *");
        var edge = Assert.Single(calls);
        Assert.Equal(
            (Edge, "80", "http", "e2e-node", 220L, 20L),
            (edge.Tags["edge"], edge.Tags["port"], edge.Tags["protocol"], edge.Tags["node"], edge.Values["requests"].GetInt64(), edge.Values["errors"].GetInt64()));

        var queries = await DashboardAsync(scenario, started);
        var nodes = queries["panel 'Service map' nodes"];
        var edges = queries["panel 'Service map' edges"];
        var graphEdge = Assert.Single(edges);
        Assert.Equal((Edge, 220L, 20L, (long)connects), (graphEdge.Tags["id"], Number(graphEdge, "mainstat"), Number(graphEdge, "secondarystat"), Number(graphEdge, "detail__connects")));
        AssertNodeGraphFrames(nodes, edges);
        var server = nodes.Single(n => n.Tags["id"] == "shop/server");
        Assert.Equal((220L, "server", Math.Round(200.0 / 220, 9)), (Number(server, "mainstat"), server.Tags["title"], Math.Round(server.Values["arc__ok"].GetDouble(), 9)));
        Assert.Equal(1.0, Math.Round(nodes.Single(n => n.Tags["id"] == "shop/client").Values["arc__ok"].GetDouble(), 9));
        var red = Assert.Single(queries["panel 'Calls per edge (R.E.D.)' A"]);
        Assert.Equal((220L, 20L), (Number(red, "requests"), Number(red, "errors")));
        Assert.Equal((long)connects, Number(Assert.Single(queries["panel 'Connections per edge' A"]), "connects"));

        // The same edge from the command line, from the snapshot the agent left.
        var kubebpf = Path.Combine(RepositoryPaths.PublishedAgent, "kubebpf");
        var config = Path.Combine(scenario.WorkDirectory, "kubebpf.json");
        Assert.Matches(@"shop/client\s+->\s+shop/server\s+220\s+20\s", KernelTest.Run(kubebpf, "map", "--config", config));
        Assert.Contains("\"shop/client\" -> \"shop/server\" [label=\"220 calls, 20 errors", KernelTest.Run(kubebpf, "map", "--config", config, "--format", "dot"), StringComparison.Ordinal);
        Assert.Contains("adds 'kubebpf map'", KernelTest.Run(kubebpf, "plugins", "--config", config), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connections_count_connects_bytes_refusals_and_timeouts_exactly_with_no_call_for_a_plain_TCP_protocol()
    {
        await using var scenario = AgentScenario.Create(influx);
        var echo = PodPython.Start(scenario.Pods, scenario.Server, EchoServer, "7007");
        PodSockets.WaitForListener(scenario.Server, 7007, TimeSpan.FromSeconds(10), () => $"echo server exited: {echo.HasExited}");
        NetworkPods.Exec(scenario.Server, "nft add table inet kbdrop && nft add chain inet kbdrop input '{ type filter hook input priority 0; }' && nft add rule inet kbdrop input tcp dport 7011 drop");
        await StartAsync(scenario);

        var seen = PodPython.Run(scenario.Client, ConnectingClient, scenario.Server.IPv4, "7007", "50", "7010", "10", "7011", "5").Trim();
        Assert.Equal("50 10 5", seen);

        const string Totals = "SELECT sum(\"connects\") AS \"connects\", sum(\"refused\") AS \"refused\", sum(\"timeouts\") AS \"timeouts\", sum(\"bytes_sent\") AS \"sent\", sum(\"bytes_received\") AS \"received\" FROM \"service_map_connections\" GROUP BY \"edge\", \"port\"";
        await WaitForAsync(scenario, "SELECT sum(\"timeouts\") AS \"n\" FROM \"service_map_connections\"", 5);
        await WaitForAsync(scenario, "SELECT sum(\"connects\") AS \"n\" FROM \"service_map_connections\"", 50);
        Assert.Equal(0, await scenario.StopAgentAsync());

        var byPort = (await scenario.QueryAsync(Totals)).ToDictionary(
            r => r.Tags["port"],
            r => $"{r.Tags["edge"]}: {Number(r, "connects")} connects, {Number(r, "refused")} refused, {Number(r, "timeouts")} timed out, {Number(r, "sent")} B sent, {Number(r, "received")} B received");
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["7007"] = $"{Edge}: 50 connects, 0 refused, 0 timed out, 50000 B sent, 50000 B received",
                ["7010"] = $"{Edge}: 0 connects, 10 refused, 0 timed out, 0 B sent, 0 B received",
                ["7011"] = $"{Edge}: 0 connects, 0 refused, 5 timed out, 0 B sent, 0 B received",
            },
            byPort);
        Assert.Empty(await scenario.QueryAsync("SELECT sum(\"requests\") FROM \"service_map_calls\""));
        var connectTime = Assert.Single(await scenario.QueryAsync("SELECT sum(\"connect_time_count\") AS \"n\", max(\"connect_time_max_ms\") AS \"max\" FROM \"service_map_connections\" WHERE \"port\" = '7007'"));
        Assert.Equal(50, Number(connectTime, "n"));
        Assert.InRange(connectTime.Values["max"].GetDouble(), 0.0001, 1000);
    }

    [Fact]
    public async Task Calls_to_a_service_virtual_IP_are_counted_on_the_edge_to_the_backend_the_kernel_chose_with_the_service_named()
    {
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations, port: 8080);
        using var service = ServiceVirtualIp.Create(scenario.Pods, scenario.Client, scenario.Server, 80, 8080);
        await StartAsync(scenario);

        var statuses = Lines(NetworkPods.Exec(scenario.Client, $"curl -s -o /dev/null -w '%{{http_code}}\\n' 'http://{service.Address}/ok?i=[1-100]'").Output);
        Assert.Equal(Enumerable.Repeat("200", 100), statuses);

        await WaitForAsync(scenario, "SELECT sum(\"requests\") AS \"n\" FROM \"service_map_calls\"", 100);
        Assert.Equal(0, await scenario.StopAgentAsync());

        var calls = Assert.Single(await scenario.QueryAsync("SELECT sum(\"requests\") AS \"requests\" FROM \"service_map_calls\" GROUP BY *"));
        Assert.Equal(
            (Edge, "8080", AgentScenario.ServerService, 100L),
            (calls.Tags["edge"], calls.Tags["port"], calls.Tags["service"], Number(calls, "requests")));
        var connections = Assert.Single(await scenario.QueryAsync("SELECT sum(\"connects\") AS \"connects\" FROM \"service_map_connections\" GROUP BY \"edge\", \"service\", \"port\""));
        Assert.Equal((Edge, AgentScenario.ServerService, "8080"), (connections.Tags["edge"], connections.Tags["service"], connections.Tags["port"]));
        Assert.InRange(Number(connections, "connects"), 1, 100);
        var conntrack = Assert.Single(await scenario.QueryAsync("SELECT last(\"conntrack_lookups\") AS \"n\", last(\"conntrack_failures\") AS \"failures\" FROM \"kubebpf_agent\" WHERE \"component\" = 'ServiceMap'"));
        Assert.Equal(0, Number(conntrack, "failures"));
    }

    [Fact]
    public async Task A_port_scan_of_ten_thousand_ports_makes_a_bounded_number_of_edges_and_every_refusal_is_counted()
    {
        await using var scenario = AgentScenario.Create(influx);
        await StartAsync(scenario);
        var rssBefore = RssKb(scenario.Agent!.Id);

        var refused = long.Parse(PodPython.Run(scenario.Client, PortScan, scenario.Server.IPv4, "20001", "30000").Trim(), CultureInfo.InvariantCulture);
        Assert.Equal(10_000, refused);

        await WaitForAsync(scenario, "SELECT sum(\"refused\") AS \"n\" FROM \"service_map_connections\"", refused);
        var rssAfter = RssKb(scenario.Agent.Id);
        Assert.Equal(0, await scenario.StopAgentAsync());

        var total = Assert.Single(await scenario.QueryAsync("SELECT sum(\"refused\") AS \"n\", sum(\"connects\") AS \"connects\" FROM \"service_map_connections\""));
        Assert.Equal((10_000L, 0L), (Number(total, "n"), Number(total, "connects")));
        var points = await scenario.QueryAsync("SELECT \"refused\", \"port\" FROM \"service_map_connections\"");
        var perWindow = points.GroupBy(p => p.Values["time"].GetInt64()).Select(w => w.Count()).ToList();
        Assert.All(perWindow, edges => Assert.InRange(edges, 1, 17)); // MaxPortsPerPeer (16) ports and "other"
        var collapsed = Assert.Single(await scenario.QueryAsync("SELECT last(\"ports_collapsed\") AS \"n\" FROM \"kubebpf_agent\" WHERE \"component\" = 'ServiceMap'"));
        Assert.InRange(Number(collapsed, "n"), 10_000 - (16 * perWindow.Count), 10_000 - 16);
        output.WriteLine($"port scan: {points.Count} edge points in {perWindow.Count} windows (at most {perWindow.Max()} per window), ports collapsed {Number(collapsed, "n")}, agent RSS {rssBefore} kB before, {rssAfter} kB after");
        Assert.True(rssAfter - rssBefore < 64 * 1024, $"the agent grew from {rssBefore} kB to {rssAfter} kB during the scan");
    }

    private Task StartAsync(AgentScenario scenario, bool withPrometheus = false)
    {
        var interfaces = new[] { scenario.Server.HostInterface, scenario.Client.HostInterface };
        var plugins = new Dictionary<string, object>
        {
            ["Capture"] = new { Interfaces = interfaces, PeerSideInterfaces = interfaces, Flows = new { HandshakeTimeout = "00:00:02" } },
            ["ServiceMap"] = new { NodeName = "e2e-node", SnapshotFile = Path.Combine(scenario.WorkDirectory, "service-map.json") },
        };
        if (withPrometheus)
        {
            plugins["Prometheus"] = new { ListenAddress = "", RemoteWrite = new { Url = prometheus.RemoteWriteUrl, SendInterval = "00:00:01" } };
        }

        return scenario.StartAgentAsync(plugins);
    }

    /// <summary>
    /// Every query of the PromQL service-map dashboard answers while the agent runs (the series are sent at each
    /// SendInterval); the edge's counters come to hold every call and connect InfluxDB holds, the graph's frames hold
    /// together, and the edge's gauge comes to hold the last window written to InfluxDB.
    /// </summary>
    private async Task AssertPromQlDashboardAsync(AgentScenario scenario, long connects)
    {
        var edgeOnly = $"{{edge=\"{Edge}\"}}";
        await prometheus.WaitForValueAsync($"sum(kubebpf_service_map_calls_requests_total{edgeOnly})", 220, Deadline);
        await prometheus.WaitForValueAsync($"sum(kubebpf_service_map_calls_duration_seconds_count{edgeOnly})", 220, Deadline);
        await prometheus.WaitForValueAsync($"sum(kubebpf_service_map_calls_errors_total{edgeOnly})", 20, Deadline);
        await prometheus.WaitForValueAsync($"sum(kubebpf_service_map_connections_connects_total{edgeOnly})", connects, Deadline);

        var answers = await PromQlDashboards.AssertAnswerAsync(prometheus, "service-map.json");
        var nodeIds = answers["panel 'Service map' A"].Select(n => n.Labels["id"]).ToList();
        Assert.Equal(["shop/client", "shop/server"], nodeIds.Order(StringComparer.Ordinal));
        var edge = Assert.Single(answers["panel 'Service map' B"]);
        Assert.Equal((Edge, "shop/client", "shop/server"), (edge.Labels["id"], edge.Labels["source"], edge.Labels["target"]));

        var calls = Assert.Single(answers["panel 'Calls per edge (R.E.D.)' A"]);
        Assert.Equal(("80", "http"), (calls.Labels["port"], calls.Labels["protocol"]));

        // The agent still runs, so a later window may come: compare the two stores until they agree.
        var deadline = DateTime.UtcNow + Deadline;
        long influxLast;
        IReadOnlyList<PromSample> gauge;
        do
        {
            influxLast = Number((await scenario.QueryAsync($"SELECT last(\"requests\") AS \"n\" FROM \"service_map_edges\" WHERE \"id\" = '{Edge}'")).Single(), "n");
            gauge = await prometheus.QueryAsync($"sum(kubebpf_service_map_edges_requests{{id=\"{Edge}\"}})");
            if (gauge.Count == 1 && gauge[0].Value == influxLast)
            {
                output.WriteLine($"PromQL service map: edge {edge.Labels["id"]}; its gauge holds the last window written to InfluxDB: {influxLast} calls");
                return;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"the edge's gauge ({PrometheusServer.Text(gauge)}) never held InfluxDB's last window ({influxLast} calls)");
    }

    private static async Task WaitForAsync(AgentScenario scenario, string query, long expected)
    {
        var deadline = DateTime.UtcNow + Deadline;
        long value = 0;
        while (DateTime.UtcNow < deadline)
        {
            var rows = await scenario.QueryAsync(query);
            value = rows.Count == 0 ? 0 : Number(rows[0], "n");
            if (value >= expected)
            {
                return;
            }

            await Task.Delay(200);
        }

        var points = await scenario.QueryAsync("SELECT * FROM /^service_map_(calls|connections)$/");
        Assert.Fail($"Timed out after {Deadline.TotalSeconds} s waiting for {expected} from {query}: got {value}; the edges' points:\n"
            + string.Join('\n', points.Select(p => string.Join(' ', p.Values.Where(v => v.Value.ValueKind != JsonValueKind.Null).Select(v => $"{v.Key}={v.Value}")))));
    }

    /// <summary>Every query of the service-map dashboard over the test's time range, by panel and target.</summary>
    private static async Task<Dictionary<string, IReadOnlyList<InfluxRow>>> DashboardAsync(AgentScenario scenario, DateTimeOffset from)
    {
        var file = Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "dashboards", "service-map.json");
        var results = new Dictionary<string, IReadOnlyList<InfluxRow>>();
        foreach (var (name, query) in GrafanaQuery.Queries(File.ReadAllText(file)))
        {
            var rows = await scenario.QueryAsync(GrafanaQuery.Substitute(query, new Dictionary<string, string?>(), from.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1), "1s"));
            Assert.True(rows.Count > 0, $"{name} returned nothing: {query}");
            results[name] = rows;
        }

        Assert.Equal(5, results.Count);
        return results;
    }

    /// <summary>What Grafana's Node Graph panel needs of the two frames (table format: group-by tags become fields).</summary>
    private static void AssertNodeGraphFrames(IReadOnlyList<InfluxRow> nodes, IReadOnlyList<InfluxRow> edges)
    {
        var ids = nodes.Select(n => n.Tags["id"]).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(nodes, n =>
        {
            Assert.True(n.Values["mainstat"].ValueKind == JsonValueKind.Number && n.Tags["title"].Length > 0, n.Tags["id"]);
            Assert.Equal(1.0, n.Values["arc__ok"].GetDouble() + n.Values["arc__errors"].GetDouble(), 9);
        });
        Assert.All(edges, e =>
        {
            Assert.Equal($"{e.Tags["source"]}->{e.Tags["target"]}", e.Tags["id"]);
            Assert.Contains(e.Tags["source"], ids);
            Assert.Contains(e.Tags["target"], ids);
            Assert.Equal(JsonValueKind.Number, e.Values["mainstat"].ValueKind);
        });
    }

    private static long Number(InfluxRow row, string column) =>
        row.Values.TryGetValue(column, out var value) && value.ValueKind == JsonValueKind.Number ? (long)value.GetDouble() : 0;

    private static long RssKb(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
