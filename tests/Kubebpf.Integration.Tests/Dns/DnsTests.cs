using System.Text.Json;
using System.Globalization;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Integration.Tests.Dns;

/// <summary>
/// DNS end to end: dnsmasq in a resolver pod (its query log is the ground truth), <c>dig</c> and the glibc resolver
/// (<c>getent hosts</c>, which walks the pod's own resolv.conf search list) in client pods, the published agent with
/// the DNS plugin, InfluxDB, and (for the PromQL dashboard) Prometheus filled by remote write.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class DnsTests(InfluxDbServer influx, PrometheusServer prometheus, ITestOutputHelper output) : IClassFixture<PrometheusServer>
{
    private static readonly string[] SearchList = ["s1.kb.test", "s2.kb.test", "s3.kb.test"];

    [Theory]
    [InlineData("socket")]
    [InlineData("tc")]
    public async Task Counts_per_pod_type_and_response_code_match_the_resolver_s_log_and_search_expansions_are_no_errors(string attach)
    {
        await using var scenario = AgentScenario.Create(influx, extraPods: 1, attach: attach);
        var resolver = DnsResolverPod.Start(scenario);
        var client = scenario.Client;
        var walker = scenario.Pods.Pods[2];
        // The walker pod's own resolv.conf, seen by a long-lived process of the pod as Kubernetes pods' containers see theirs.
        scenario.Pods.WriteResolvConf(walker, $"nameserver {resolver.Pod.IPv4}\nsearch {string.Join(' ', SearchList)}\noptions ndots:5 attempts:1\n");
        scenario.Pods.Start(walker, "sleep", "infinity");
        var plugins = WithPrometheus(DnsPlugin());
        plugins["Red"] = AgentScenario.RedLoggingEveryCall; // loops of dig, each query checked against the resolver's log
        await scenario.StartAgentAsync(plugins);

        // The first walk makes the agent read the walker's resolv.conf (in the background); the measured walk follows.
        NetworkPods.Exec(walker, "getent hosts warmup.kb.test", check: false);
        await WaitForGaugeAsync(scenario, "resolv_conf_pods", 1);
        Assert.Contains(DnsResolverPod.Web, NetworkPods.Exec(walker, $"getent hosts {DnsResolverPod.Web}").Output, StringComparison.Ordinal);

        var dig = $"dig +tries=1 +timeout=3 @{resolver.Pod.IPv4}";
        NetworkPods.Exec(client, string.Join("; ",
            $"for i in $(seq 100); do {dig} {DnsResolverPod.Web} A > /dev/null; done",
            $"for i in $(seq 10); do {dig} {DnsResolverPod.Web} AAAA > /dev/null; done",
            $"for i in $(seq 10); do {dig} {DnsResolverPod.Service} SRV > /dev/null; done",
            $"for i in $(seq 10); do {dig} -x {DnsResolverPod.WebIPv4} > /dev/null; done",
            $"for i in $(seq 10); do {dig} nx$i.kb.test A > /dev/null; done",
            $"for i in $(seq 10); do {dig} refused$i.example.org A > /dev/null; done",
            $"for i in $(seq 10); do {dig} +tcp {DnsResolverPod.Web} A > /dev/null; done",
            $"for i in $(seq 10); do dig +tries=1 +timeout=3 @{resolver.Pod.IPv6} {DnsResolverPod.Web} A > /dev/null; done",
            $"for i in $(seq 5); do {dig} +noedns {DnsResolverPod.Big} TXT > /dev/null; done"));

        // 170 over IPv4, 5 of them TXT answers truncated over UDP and asked again over TCP; 10 over IPv6.
        var logged = resolver.WaitForQueries(180, client.IPv4, client.IPv6);
        var fromWalker = logged.Where(q => q.Client == walker.IPv4).ToList();
        var expected = logged.Count;
        // Each exchange is seen twice: leaving its client's veth (out) and reaching the resolver's (in).
        await WaitForPointsAsync(scenario, "dns_requests", 2 * expected);
        Assert.Equal(0, await scenario.StopAgentAsync());

        var points = await scenario.PointsAsync("dns_requests");
        var podOf = new Dictionary<string, string> { [client.IPv4] = scenario.ClientPod, [client.IPv6] = scenario.ClientPod, [walker.IPv4] = scenario.ExtraPod(2) };
        Assert.Equal(
            Tally(logged.Select(q => $"{podOf[q.Client]} out {q.Type} {q.Rcode}")),
            Tally(points.Where(p => Tag(p, "direction") == "out").Select(p => $"{Tag(p, "pod")} out {Tag(p, "qtype")} {Tag(p, "rcode")}")));
        Assert.Equal(
            Tally(logged.Select(q => $"{scenario.ServerPod} in {q.Type} {q.Rcode}")),
            Tally(points.Where(p => Tag(p, "direction") == "in").Select(p => $"{Tag(p, "pod")} in {Tag(p, "qtype")} {Tag(p, "rcode")}")));
        Assert.Equal(
            [("a", 100), ("a over ipv6", 10), ("aaaa", 10), ("nx", 10), ("ptr", 10), ("refused", 10), ("srv", 10), ("tcp", 15), ("txt truncated", 5)],
            ClientMix(logged.Where(q => podOf.GetValueOrDefault(q.Client) == scenario.ClientPod), points.Where(p => Tag(p, "pod") == scenario.ClientPod)));

        // R.E.D. per pod, direction, query type and response code: dns_red's resource-level series sum to the same tally.
        var red = await scenario.PointsAsync("dns_red", "WHERE qname != '*'");
        Assert.Equal(
            Tally(logged.SelectMany(q => new[] { $"{podOf[q.Client]} out {q.Type} {q.Rcode}", $"{scenario.ServerPod} in {q.Type} {q.Rcode}" })),
            Sums(red.Select(p => ($"{Tag(p, "pod")} {Tag(p, "direction")} {Tag(p, "qtype")} {Tag(p, "rcode")}", p["requests"].GetInt64()))));
        var rolledUp = await scenario.PointsAsync("dns_red", "WHERE qname = '*'");
        Assert.All(rolledUp, p => Assert.Equal(("*", "*"), (Tag(p, "rcode"), Tag(p, "qtype"))));
        Assert.Equal(2 * expected, rolledUp.Sum(p => p["requests"].GetInt64()));

        // The measured walk: every candidate under the search list is a marked expansion, and none counts as an error.
        var walk = points.Where(p => Tag(p, "pod") == scenario.ExtraPod(2) && Field(p, "qname").StartsWith(DnsResolverPod.Web, StringComparison.Ordinal)).ToList();
        var candidates = walk.Where(p => SearchList.Any(d => Field(p, "qname").EndsWith("." + d, StringComparison.Ordinal))).ToList();
        Assert.Equal(fromWalker.Count(q => q.Name.StartsWith(DnsResolverPod.Web + ".", StringComparison.Ordinal)), candidates.Count);
        Assert.True(candidates.Count >= SearchList.Length, $"a walk through {SearchList.Length} search domains: {candidates.Count} candidates");
        Assert.All(candidates, p => Assert.True(p["search_expansion"].GetBoolean(), $"{Field(p, "qname")} marked"));
        Assert.All(candidates, p => Assert.Equal("NXDOMAIN", Tag(p, "rcode")));
        var walkRed = await scenario.PointsAsync("dns_red", $"WHERE pod = '{scenario.ExtraPod(2)}' AND direction = 'out' AND qname =~ /^web\\.kb\\.test/");
        Assert.Equal(walk.Count, walkRed.Sum(p => p["requests"].GetInt64()));
        Assert.Equal(0, walkRed.Sum(p => p["errors"].GetInt64() + p["client_errors"].GetInt64()));

        // The client's R.E.D. roll-up: REFUSED are errors, NXDOMAIN client errors.
        var clientRed = await scenario.PointsAsync("dns_red", $"WHERE pod = '{scenario.ClientPod}' AND direction = 'out' AND qname = '*'");
        Assert.Equal((180L, 10L, 10L), (clientRed.Sum(p => p["requests"].GetInt64()), clientRed.Sum(p => p["errors"].GetInt64()), clientRed.Sum(p => p["client_errors"].GetInt64())));

        await AssertNothingLostAsync(scenario, 2 * expected);
        await DnsDashboard.AssertQueriesAsync(influx, scenario, resolver);
        await PromQlDashboards.AssertAnswerAsync(prometheus, "dns.json");
        // The counters against the resolver's log: NXDOMAIN per asking pod (search-path expansions included), and all served.
        var nxdomain = logged.Where(q => q.Rcode == "NXDOMAIN").ToList();
        await prometheus.WaitForValuesAsync(
            $"sum by (pod) (kubebpf_dns_requests_total{{pod=~\"{scenario.ClientPod}|{scenario.ExtraPod(2)}\",direction=\"out\",rcode=\"NXDOMAIN\"}})", "pod",
            nxdomain.GroupBy(q => podOf[q.Client]).ToDictionary(g => g.Key, g => (double)g.Count()), TimeSpan.FromSeconds(60));
        await prometheus.WaitForValueAsync(
            $"sum(kubebpf_dns_requests_total{{pod=\"{scenario.ServerPod}\",direction=\"in\"}})", expected, TimeSpan.FromSeconds(60));
        output.WriteLine($"dnsmasq logged {expected} queries; per pod, type and rcode (out), logged = dns_requests = dns_red requests:");
        var redOut = Sums(red.Where(p => Tag(p, "direction") == "out").Select(p => ($"{Tag(p, "pod")} {Tag(p, "qtype")} {Tag(p, "rcode")}", p["requests"].GetInt64())));
        foreach (var (key, count) in Tally(logged.Select(q => $"{podOf[q.Client]} {q.Type} {q.Rcode}")))
        {
            output.WriteLine($"  {key}: {count} = {redOut.GetValueOrDefault(key)}");
        }

        output.WriteLine($"per rcode, both directions (dns_red): {string.Join(", ", Sums(red.Select(p => (Tag(p, "rcode"), p["requests"].GetInt64()))).Select(r => $"{r.Key} {r.Value}"))}");

        output.WriteLine($"walk: {candidates.Count} candidates marked search_expansion, {walk.Count} exchanges, errors 0");
    }

    [Fact]
    public async Task Queries_to_a_resolver_that_never_answers_time_out_after_the_timeout_and_not_before()
    {
        const int Queries = 5;
        await using var scenario = AgentScenario.Create(influx);
        var resolver = DnsResolverPod.Start(scenario);
        await scenario.StartAgentAsync(WithPrometheus(DnsPlugin()));

        // In the background, all at once, so that the watch below covers most of each query's 5 s.
        var sent = DateTime.UtcNow;
        NetworkPods.Exec(scenario.Client,
            $"for i in $(seq {Queries}); do dig +tries=1 +timeout=1 -p {DnsResolverPod.SilentPort} @{resolver.Pod.IPv4} lost$i.kb.test A > /dev/null 2>&1 & done", check: false);
        Poll.Until(() => resolver.SilentlyDropped() == Queries, "the silent resolver to receive every query");

        // None may time out before 5 s after it was sent (each was sent after `sent`): watch until then.
        var watchedFrom = DateTime.UtcNow - sent;
        while (DateTime.UtcNow < sent + TimeSpan.FromSeconds(4.8))
        {
            Assert.Equal(0, await CountOrZeroAsync(scenario, "dns_requests", "WHERE rcode = 'TIMEOUT'"));
            await Task.Delay(200);
        }

        await WaitForPointsAsync(scenario, "dns_requests", 2 * Queries, "WHERE rcode = 'TIMEOUT'");
        Assert.Equal(0, await scenario.StopAgentAsync());
        var timeouts = await scenario.PointsAsync("dns_requests", "WHERE rcode = 'TIMEOUT'");
        Assert.Equal(2 * Queries, timeouts.Count);
        Assert.All(timeouts, p => Assert.Equal(5_000_000_000, p["duration_ns"].GetInt64()));
        Assert.Equal(Enumerable.Range(1, Queries).Select(i => $"lost{i}.kb.test").ToList(),
            timeouts.Where(p => Tag(p, "direction") == "out").Select(p => Field(p, "qname")).Order(StringComparer.Ordinal).ToList());
        var red = await scenario.PointsAsync("dns_red", $"WHERE pod = '{scenario.ClientPod}' AND qname = '*'");
        Assert.Equal((Queries, Queries), (red.Sum(p => p["timeouts"].GetInt64()), red.Sum(p => p["errors"].GetInt64())));
        var perRcode = await scenario.PointsAsync("dns_red", "WHERE qname != '*'");
        Assert.Equal(
            new Dictionary<string, int> { [$"{scenario.ClientPod} out TIMEOUT"] = Queries, [$"{scenario.ServerPod} in TIMEOUT"] = Queries },
            Sums(perRcode.Select(p => ($"{Tag(p, "pod")} {Tag(p, "direction")} {Tag(p, "rcode")}", p["requests"].GetInt64()))));
        Assert.Equal(2 * Queries, perRcode.Sum(p => p["timeouts"].GetInt64()));
        await prometheus.WaitForValueAsync(
            $"sum(kubebpf_dns_requests_total{{pod=\"{scenario.ClientPod}\",direction=\"out\",rcode=\"TIMEOUT\"}})", Queries, TimeSpan.FromSeconds(60));
        output.WriteLine($"{Queries} queries to a silent resolver: 0 timeouts from {watchedFrom.TotalSeconds:0.0} s to 4.8 s after sending, {timeouts.Count} points (out and in) after, each 5 s long; dns_red rcode=TIMEOUT requests {perRcode.Sum(p => p["requests"].GetInt64())}");
    }

    [Fact]
    public async Task Latency_is_within_a_millisecond_of_how_long_a_delaying_resolver_held_each_query()
    {
        const int Queries = 20;
        const int DelayMs = 50;
        await using var scenario = AgentScenario.Create(influx);
        var resolver = DnsResolverPod.Start(scenario, DelayMs);
        await scenario.StartAgentAsync(DnsPlugin());

        NetworkPods.Exec(scenario.Client,
            $"for i in $(seq {Queries}); do dig +tries=1 +timeout=3 -p {DnsResolverPod.DelayPort} @{resolver.Pod.IPv4} {DnsResolverPod.Web} A > /dev/null; done");
        await WaitForPointsAsync(scenario, "dns_requests", 2 * Queries);
        Assert.Equal(0, await scenario.StopAgentAsync());

        // One query at a time: the forwarder's log, the resolver's veth (in) and the client's (out) list them in one order.
        var holds = resolver.ForwarderHolds();
        Assert.Equal(Queries, holds.Count);
        var points = await scenario.PointsAsync("dns_requests");
        var served = points.Where(p => Tag(p, "direction") == "in").Select(p => p["duration_ns"].GetInt64()).ToList();
        var asked = points.Where(p => Tag(p, "direction") == "out").Select(p => p["duration_ns"].GetInt64()).ToList();
        Assert.Equal((Queries, Queries), (served.Count, asked.Count));
        for (var i = 0; i < Queries; i++)
        {
            Assert.InRange(holds[i], DelayMs * 1_000_000L, long.MaxValue);
            Assert.InRange(served[i] - holds[i], -1_000_000, 1_000_000);
            Assert.InRange(asked[i] - served[i], 0, 1_000_000);
        }

        var differences = Enumerable.Range(0, Queries).Select(i => served[i] - holds[i]).Order().ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"delay {DelayMs} ms: client-side latency median {Median(asked) / 1e6:0.000} ms; resolver-side minus forwarder hold: median {differences[Queries / 2] / 1e3:0.0} us, range {differences[0] / 1e3:0.0} to {differences[^1] / 1e3:0.0} us; client minus resolver side median {Median([.. asked.Zip(served, (a, b) => a - b)]) / 1e3:0.0} us"));
    }

    [Fact]
    public async Task Ten_thousand_random_names_keep_the_name_tags_bounded_count_the_overflow_and_leave_memory_flat()
    {
        const int Names = 10_000;
        const int Cap = 100; // the R.E.D. plugin's MaxRoutesPerWorkload
        await using var scenario = AgentScenario.Create(influx);
        var resolver = DnsResolverPod.Start(scenario);
        var agent = await scenario.StartAgentAsync(DnsPlugin());

        // One uninterrupted run (a workload idle for a whole window gets a fresh cap), the agent's memory read as it goes.
        var rss = new List<(long Names, long Bytes)>();
        using var client = PodPython.Start(scenario.Pods, scenario.Client, RandomNames, resolver.Pod.IPv4, "0", Names.ToString(CultureInfo.InvariantCulture));
        foreach (var checkpoint in new[] { 2_000, 6_000, Names })
        {
            await scenario.WaitForCallLogAsync(2L * checkpoint, TimeSpan.FromSeconds(120), "dns_requests");
            rss.Add((checkpoint, ResidentBytes(agent.Id)));
        }

        Assert.Equal(0, await scenario.StopAgentAsync());
        Assert.Equal(Names, resolver.Queries().Count);
        Assert.Equal(2 * Names, await scenario.CallLogWeightAsync("dns_requests"));
        // Per pod: every window holds at most the cap's names plus {other}; what the cap refused is counted under {other}
        // and by the R.E.D. plugin. (A workload idle for a whole window gets a fresh cap: on a starved machine the
        // client may pause that long, so the names kept over the run are a multiple of the cap, not the cap.)
        var collapsed = 0L;
        var kept = new List<int>();
        foreach (var pod in new[] { scenario.ClientPod, scenario.ServerPod })
        {
            var points = await scenario.PointsAsync("dns_red", $"WHERE pod = '{pod}' AND qname != '*'");
            Assert.All(points.GroupBy(p => p["time"].GetInt64()), window =>
                Assert.InRange(window.Count(p => Tag(p, "qname") != "{other}"), 0, Cap));
            var named = points.Where(p => Tag(p, "qname") != "{other}").ToList();
            var other = points.Where(p => Tag(p, "qname") == "{other}").Sum(p => p["requests"].GetInt64());
            Assert.Equal(named.Count, named.Select(p => Tag(p, "qname")).Distinct().Count()); // each name asked once
            Assert.Equal(Names, named.Sum(p => p["requests"].GetInt64()) + other);
            Assert.InRange(named.Count, Cap, Names / 10);
            collapsed += other;
            kept.Add(named.Count);
        }

        var red = await scenario.LastAgentMetricsAsync("Red");
        Assert.Equal(collapsed, red["routes_collapsed"]);
        // Every random name is NXDOMAIN, an error: beyond the errors' allowance the call log keeps a weighted sample of
        // them, each one left out counted, and none is sampled as a fast success.
        Assert.Equal(0, red["call_log_sampled_out"]);
        Assert.Equal(2 * Names, await CountOrZeroAsync(scenario, "dns_requests") + red.GetValueOrDefault("call_log_errors_sampled_out"));
        var growth = rss[^1].Bytes - rss[0].Bytes;
        Assert.True(client.WaitForExit(30_000) && client.ExitCode == 0, "the random-name client ended without error");
        output.WriteLine($"agent RSS after {string.Join(", ", rss.Select(r => $"{r.Names} names: {r.Bytes / 1048576.0:0.0} MiB"))}; names kept as tags (client, resolver): {string.Join(", ", kept)}; routes_collapsed {red["routes_collapsed"]}");
        Assert.True(growth < 16L * 1024 * 1024, $"RSS grew {growth / 1048576.0:0.0} MiB from {rss[0].Names} to {rss[^1].Names} names");
    }

    private static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private static double Median(IReadOnlyList<long> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>argv[3] A queries for distinct random names under kb.test, numbered from argv[2], one at a time on one socket; prints how many were answered.</summary>
    private const string RandomNames = """
        import random, socket, struct, sys
        server, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        answered = 0
        for i in range(first, first + count):
            name = f"r{i:05d}x{random.getrandbits(32):08x}.kb.test"
            qid = i & 0xFFFF
            question = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
            s.sendto(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", 1, 1), (server, 53))
            try:
                while s.recv(4096)[:2] != struct.pack(">H", qid):
                    pass
                answered += 1
            except socket.timeout:
                pass
        print(answered)
        """;

    private static Dictionary<string, object> DnsPlugin(object? settings = null) => new() { ["Dns"] = settings ?? new { Ports = DnsResolverPod.Ports } };

    private Dictionary<string, object> WithPrometheus(Dictionary<string, object> plugins)
    {
        plugins["Prometheus"] = new { ListenAddress = "", RemoteWrite = new { Url = prometheus.RemoteWriteUrl, SendInterval = "00:00:01" } };
        return plugins;
    }

    private static List<(string, int)> ClientMix(IEnumerable<LoggedQuery> logged, IEnumerable<IReadOnlyDictionary<string, JsonElement>> points)
    {
        var outbound = points.Where(p => Tag(p, "direction") == "out").ToList();
        Assert.Equal(logged.Count(), outbound.Count);
        return
        [
            .. outbound.GroupBy(p => (Tag(p, "qtype"), Tag(p, "rcode"), Field(p, "transport"), p["truncated"].GetBoolean(), Field(p, "client")[0] == '[') switch
            {
                (_, _, "tcp", false, false) => "tcp",
                ("TXT", "NOERROR", "udp", true, false) => "txt truncated",
                ("A", "NOERROR", "udp", false, true) => "a over ipv6",
                (_, _, _, true, _) or (_, _, _, _, true) => "unexpected",
                ("A", "NOERROR", _, _, _) => "a",
                ("AAAA", _, _, _, _) => "aaaa",
                (_, "NXDOMAIN", _, _, _) => "nx",
                ("PTR", _, _, _, _) => "ptr",
                (_, "REFUSED", _, _, _) => "refused",
                ("SRV", _, _, _, _) => "srv",
                var other => other.ToString(),
            }).Select(g => (g.Key, g.Count())).OrderBy(g => g.Key, StringComparer.Ordinal),
        ];
    }

    private async Task WaitForPointsAsync(AgentScenario scenario, string measurement, long count, string where = "")
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        long seen;
        while ((seen = await CountOrZeroAsync(scenario, measurement, where)) < count)
        {
            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"{measurement} {where}: {seen} points, {count} expected; the agent's counters: {await scenario.NonZeroCountersAsync()}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Points of a call log (or, with <paramref name="field"/>, another measurement) matching <paramref name="where"/>; 0 before the database exists.</summary>
    private async Task<long> CountOrZeroAsync(AgentScenario scenario, string measurement, string where = "", string field = "duration_ns")
    {
        try
        {
            var rows = await influx.QueryAsync(scenario.Database, $"SELECT count(\"{field}\") FROM \"{measurement}\" {where}");
            return rows.Count == 0 ? 0 : rows[0].Values["count"].GetInt64();
        }
        catch (InvalidOperationException e) when (e.Message.Contains("database not found", StringComparison.Ordinal))
        {
            return 0;
        }
    }

    private async Task WaitForGaugeAsync(AgentScenario scenario, string gauge, long atLeast)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var value = await CountOrZeroAsync(scenario, "kubebpf_agent", $"WHERE component = 'Dns' AND {gauge} >= {atLeast}", gauge);
            if (value > 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the Dns gauge {gauge} never reached {atLeast}");
            await Task.Delay(200);
        }
    }

    private static async Task AssertNothingLostAsync(AgentScenario scenario, long exchanges)
    {
        var dns = await scenario.LastAgentMetricsAsync("Dns");
        var capture = await scenario.LastAgentMetricsAsync("Capture");
        Assert.Equal(
            (exchanges, 0L, 0L, 0L, 0L, 0L),
            (dns["exchanges"], dns["malformed_messages"], dns["unmatched_answers"], dns["unanswered_queries"], dns["pending_overflow"], dns["desyncs"]));
        Assert.Equal((0L, 0L, 0L), (capture["ringbuf_full"], capture["dropped_records"], capture["evicted_flows"]));
    }

    private static Dictionary<string, int> Sums(IEnumerable<(string Key, long Count)> counts) =>
        counts.GroupBy(c => c.Key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => checked((int)g.Sum(c => c.Count)), StringComparer.Ordinal);

    private static Dictionary<string, int> Tally(IEnumerable<string> keys) =>
        keys.GroupBy(k => k, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    internal static string Tag(IReadOnlyDictionary<string, JsonElement> point, string name) => point.TryGetValue(name, out var value) ? value.GetString() ?? "" : "";

    internal static string Field(IReadOnlyDictionary<string, JsonElement> point, string name) => point[name].GetString()!;
}
