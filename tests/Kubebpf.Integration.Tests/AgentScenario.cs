using System.Text.Json;
using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>One <c>http_requests</c> point as stored in InfluxDB; <paramref name="TimeNs"/> is the request's start.</summary>
public sealed record CallLogPoint(
    long TimeNs, string Pod, string Workload, string Direction, string Method, string StatusClass, int Status, string Path,
    string? PeerNamespace, string? PeerWorkload, string? PeerService, long DurationNs, long? RequestBytes, long? ResponseBytes);

/// <summary>
/// Two pods, <c>server</c> and <c>client</c> (and optionally more, <c>pod2</c>, <c>pod3</c>, ... of workloads of the same
/// names), named in a static metadata file, and the published agent observing exactly their host-side veths (so
/// parallel tests never see each other's traffic) and writing to its own database.
/// </summary>
public sealed class AgentScenario : IAsyncDisposable
{
    public const string Namespace = "shop";
    public const string ServerWorkload = "server";
    public const string ClientWorkload = "client";
    public const string ServerService = "server-svc";

    /// <summary>
    /// The R.E.D. plugin's settings for a test that checks the call log exchange by exchange while sending bursts above
    /// the default call-log budget (100 successful, fast exchanges per second per workload, direction and protocol, in
    /// these tests' one-second windows): every exchange gets its point.
    /// </summary>
    public static readonly object RedLoggingEveryCall = new { CallLog = new { Sampling = new { Enabled = false } } };

    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(30);
    private readonly InfluxDbServer _influx;
    private readonly string _workDirectory = Directory.CreateTempSubdirectory("kubebpf-e2e-").FullName;

    private AgentScenario(InfluxDbServer influx, NetworkPods pods, string? attach)
    {
        _influx = influx;
        Pods = pods;
        Attach = attach;
        Database = "e2e_" + Guid.NewGuid().ToString("N")[..12];
        File.WriteAllText(MetadataFile, $"""
            workloads:
              - namespace: {Namespace}
                pod: {ServerPod}
                workload: {"{"} kind: Deployment, name: {ServerWorkload} {"}"}
                service: {ServerService}
                interfaces: [{Server.HostInterface}]
                ips: [{Server.IPv4}, "{Server.IPv6}"]
              - namespace: {Namespace}
                pod: {ClientPod}
                workload: {"{"} kind: Deployment, name: {ClientWorkload} {"}"}
                interfaces: [{Client.HostInterface}]
                ips: [{Client.IPv4}, "{Client.IPv6}"]
            """ + string.Concat(pods.Pods.Skip(2).Select((pod, i) => $"""

              - namespace: {Namespace}
                pod: {ExtraPod(i + 2)}
                workload: {"{"} kind: Deployment, name: {ExtraWorkload(i + 2)} {"}"}
                interfaces: [{pod.HostInterface}]
                ips: [{pod.IPv4}, "{pod.IPv6}"]
            """)));
    }

    public NetworkPods Pods { get; }

    /// <summary>The capture's <c>Attach</c> setting (<c>socket</c> or <c>tc</c>); null leaves the plugin's default.</summary>
    public string? Attach { get; }

    public Pod Server => Pods.Pods[0];

    public Pod Client => Pods.Pods[1];

    public string ServerPod => $"server-{Pods.Prefix}";

    public string ClientPod => $"client-{Pods.Prefix}";

    /// <summary>The workload of the extra pod <paramref name="index"/> (2 or more).</summary>
    public static string ExtraWorkload(int index) => $"pod{index}";

    /// <summary>The pod name of the extra pod <paramref name="index"/> (2 or more).</summary>
    public string ExtraPod(int index) => $"{ExtraWorkload(index)}-{Pods.Prefix}";

    /// <summary>The InfluxDB database of this scenario alone.</summary>
    public string Database { get; }

    public AgentProcess? Agent { get; private set; }

    public string WorkDirectory => _workDirectory;

    private string MetadataFile => Path.Combine(_workDirectory, "workloads.yaml");

    /// <summary>Creates the pods (this needs root: it fails, never skips, without it).</summary>
    /// <param name="influx">The InfluxDB server.</param>
    /// <param name="extraPods">Pods beyond the server and the client.</param>
    /// <param name="attach">The capture's <c>Attach</c> setting, also in a Capture section the test passes; null for the default.</param>
    public static AgentScenario Create(InfluxDbServer influx, int extraPods = 0, string? attach = null) => new(influx, NetworkPods.Create(2 + extraPods), attach);

    /// <summary>
    /// Starts the published agent with the Capture, Http, Red, StaticMetadata and InfluxDb plugins, flushing every
    /// second, and waits until the capture is attached, so that all traffic from now on is observed.
    /// </summary>
    /// <param name="extraPlugins">More plugin instances, by instance name.</param>
    /// <param name="extraPluginDirectories">Plugin folders searched after the published one.</param>
    /// <param name="container">The agent image to run instead of the published agent (its own plugins, its readiness file).</param>
    /// <param name="cgroup">A cgroup folder to run the published agent in (a memory limit).</param>
    public async Task<AgentProcess> StartAgentAsync(
        IReadOnlyDictionary<string, object>? extraPlugins = null, IReadOnlyList<string>? extraPluginDirectories = null,
        AgentContainer? container = null, string? cgroup = null)
    {
        var interfaces = Pods.Pods.Select(p => p.HostInterface).ToArray();
        var plugins = new Dictionary<string, object>
        {
            ["Metadata"] = new { Plugin = "StaticMetadata", File = MetadataFile },
            // Host-side veths see a pod's traffic from the far side, whatever their names.
            ["Capture"] = new { Interfaces = interfaces, PeerSideInterfaces = interfaces },
            ["Http"] = new { },
            ["Red"] = new { },
            // The tests count every call-log point: a burst (20,000 DNS points) on a busy machine must not overflow the
            // call-log queue, whose default is sized for the agent's memory rather than for exact counts.
            ["InfluxDb"] = new { Url = _influx.Url, Database, Buffer = new { FlushInterval = "00:00:00.200", RecordsBufferBytes = 128L << 20 } },
        };
        foreach (var (name, settings) in extraPlugins ?? new Dictionary<string, object>())
        {
            plugins[name] = settings;
        }

        if (Attach is not null)
        {
            var capture = JsonSerializer.SerializeToNode(plugins["Capture"])!.AsObject();
            capture["Attach"] = Attach;
            plugins["Capture"] = capture;
        }

        var configuration = new
        {
            Agent = new
            {
                // The image's agent finds its own plugins beside it (the default folder).
                PluginDirectories = container is null ? (string[])[Path.Combine(RepositoryPaths.PublishedAgent, "plugins"), .. extraPluginDirectories ?? []] : [],
                FlushInterval = "00:00:01",
                NodeName = "e2e-node",
                HealthDirectory = container is null ? "" : AgentContainer.HealthDirectory,
            },
            Plugins = plugins,
            Logging = new { LogLevel = new { Default = "Information" } },
        };
        Agent = AgentProcess.Start(configuration, _workDirectory, container, cgroup);
        await Agent.WaitForLogAsync("Capture attached to", AttachTimeout);
        return Agent;
    }

    /// <summary>SIGTERM (the agent flushes and drains its sinks), then the exit code.</summary>
    public Task<int> StopAgentAsync() =>
        (Agent ?? throw new InvalidOperationException("The agent was not started.")).StopAsync(TimeSpan.FromSeconds(30));

    /// <summary>
    /// Waits until the call log stands for at least <paramref name="expected"/> exchanges (the sum of its points'
    /// weights: one point each unless the call-log policy sampled them), or <paramref name="timeout"/> passed;
    /// <paramref name="measurement"/> names the protocol's call log.
    /// </summary>
    public async Task WaitForCallLogAsync(long expected, TimeSpan timeout, string measurement = "http_requests")
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && await CallLogWeightAsync(measurement) < expected)
        {
            await Task.Delay(200);
        }
    }

    /// <summary>The exchanges the <paramref name="measurement"/> call log stands for, the sum of its weights; 0 before the database exists.</summary>
    public async Task<long> CallLogWeightAsync(string measurement = "http_requests", string where = "")
    {
        var rows = await QueryAsync($"SELECT sum(\"weight\") FROM \"{measurement}\" {where}");
        return rows.Count == 0 ? 0 : rows[0].Values["sum"].GetInt64();
    }

    /// <summary>Every <c>http_requests</c> point of this scenario.</summary>
    public async Task<IReadOnlyList<CallLogPoint>> CallLogAsync()
    {
        var rows = await _influx.QueryAsync(Database, "SELECT * FROM http_requests GROUP BY *");
        return [.. rows.Select(row => new CallLogPoint(
            row.Values["time"].GetInt64(), row.Tags["pod"], row.Tags["workload"], row.Tags["direction"], row.Tags["method"], row.Tags["status_class"],
            row.Values["status"].GetInt32(), row.Values["path"].GetString()!,
            Tag(row, "peer_namespace"), Tag(row, "peer_workload"), Tag(row, "peer_service"),
            row.Values["duration_ns"].GetInt64(), Integer(row, "request_bytes"), Integer(row, "response_bytes")))];
    }

    /// <summary>
    /// Asserts that the call log holds <paramref name="served"/> exactly once as the server's <c>in</c> and once as the
    /// client's <c>out</c> (method, path, status), nothing else, and that both ends are named.
    /// </summary>
    public async Task AssertCallLogAsync(IReadOnlyList<PlannedRequest> served)
    {
        var expected = TrafficPlan.Sorted(served);
        var calls = await CallLogAsync();
        var serverIn = calls.Where(c => c.Pod == ServerPod && c.Direction == "in").ToList();
        var clientOut = calls.Where(c => c.Pod == ClientPod && c.Direction == "out").ToList();
        Assert.Equal(expected, TrafficPlan.Sorted(serverIn.Select(c => new PlannedRequest(c.Method, c.Path, c.Status))));
        Assert.Equal(expected, TrafficPlan.Sorted(clientOut.Select(c => new PlannedRequest(c.Method, c.Path, c.Status))));
        Assert.Equal(2 * served.Count, calls.Count);

        Assert.All(calls, c => Assert.Equal($"{c.Status / 100}xx", c.StatusClass));
        Assert.All(serverIn, c => Assert.Equal(
            (ServerWorkload, Namespace, ClientWorkload, (string?)null),
            (c.Workload, c.PeerNamespace, c.PeerWorkload, c.PeerService)));
        Assert.All(clientOut, c => Assert.Equal(
            (ClientWorkload, Namespace, ServerWorkload, ServerService),
            (c.Workload, c.PeerNamespace, c.PeerWorkload, c.PeerService)));
    }

    /// <summary>Every point of <paramref name="measurement"/>, tags and fields together by name, in time order.</summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, JsonElement>>> PointsAsync(string measurement, string where = "")
    {
        var rows = await _influx.QueryAsync(Database, $"SELECT * FROM \"{measurement}\" {where}");
        return [.. rows.Select(row => (IReadOnlyDictionary<string, JsonElement>)row.Values.Where(v => v.Value.ValueKind != JsonValueKind.Null).ToDictionary())];
    }

    /// <summary>The last <c>kubebpf_agent</c> point of <paramref name="component"/>: its counters by name.</summary>
    public async Task<IReadOnlyDictionary<string, long>> LastAgentMetricsAsync(string component)
    {
        var points = await PointsAsync("kubebpf_agent", $"WHERE component = '{component}'");
        Assert.NotEmpty(points);
        return points[^1].Where(p => p.Value.ValueKind == JsonValueKind.Number && p.Key != "time").ToDictionary(p => p.Key, p => p.Value.GetInt64());
    }

    /// <summary>Every component's non-zero counters at the agent's last flush, for failure messages that say where a loss was counted.</summary>
    public async Task<string> NonZeroCountersAsync()
    {
        var points = await PointsAsync("kubebpf_agent");
        return string.Join("; ", points
            .GroupBy(p => p.TryGetValue("component", out var component) ? component.ToString() : "?")
            .Select(g => $"{g.Key}: " + string.Join(", ", g.Last()
                .Where(f => f.Key != "time" && f.Value.ValueKind == JsonValueKind.Number && f.Value.GetDouble() != 0)
                .Select(f => $"{f.Key}={f.Value}"))));
    }

    /// <summary>
    /// By the agent's own counters at its last flush (after the capture stopped): <paramref name="exchanges"/> HTTP
    /// exchanges and not one loss, in the capture or in the HTTP parser.
    /// </summary>
    public async Task AssertNothingLostAsync(long exchanges)
    {
        Dictionary<string, long> expectedCapture = new()
        {
            ["exchanges"] = exchanges, ["attached_interfaces"] = 2, ["ringbuf_full"] = 0, ["dropped_records"] = 0, ["truncated"] = 0,
            ["unsupported_ip"] = 0, ["buffer_overflows"] = 0, ["late_classified_flows"] = 0, ["evicted_flows"] = 0,
        };
        // Not stream_gaps: a segment the veth dropped and the sender retransmitted arrives after its successors, a gap
        // that is no loss where it falls inside a body. Where it is one, the Http counters below say so.
        Dictionary<string, long> expectedHttp = new()
        {
            ["exchanges"] = exchanges, ["desyncs"] = 0, ["unmatched_responses"] = 0, ["unanswered_requests"] = 0, ["invalid_heads"] = 0,
            ["oversized_heads"] = 0, ["pipeline_overflow"] = 0,
        };
        var mismatches = new List<string>();
        foreach (var (component, expected) in new[] { ("Capture", expectedCapture), ("Http", expectedHttp) })
        {
            var actual = await LastAgentMetricsAsync(component);
            var got = expected.Keys.ToDictionary(k => k, k => actual.GetValueOrDefault(k, -1));
            if (got.Any(g => g.Value != expected[g.Key]))
            {
                mismatches.Add($"{component}: expected {Text(expected)}, got {Text(got)}; its non-zero counters: {Text(actual.Where(a => a.Value != 0))}");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
    }

    private static string Text(IEnumerable<KeyValuePair<string, long>> counters) => string.Join(' ', counters.Select(c => $"{c.Key}={c.Value}"));

    public Task<long> CountAsync(string measurement, string field) => _influx.CountAsync(Database, measurement, field);

    /// <summary>Runs an InfluxQL query against this scenario's database; no rows while the database does not exist yet.</summary>
    public async Task<IReadOnlyList<InfluxRow>> QueryAsync(string influxQl)
    {
        try
        {
            return await _influx.QueryAsync(Database, influxQl);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("database not found", StringComparison.Ordinal))
        {
            return []; // the sink creates it with its first write
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Agent is { HasExited: false })
            {
                await Agent.StopAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            Agent?.Dispose();
            Pods.Dispose();
            Directory.Delete(_workDirectory, recursive: true);
        }
    }

    private static string? Tag(InfluxRow row, string name) => row.Tags.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    private static long? Integer(InfluxRow row, string name) =>
        row.Values.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;
}
