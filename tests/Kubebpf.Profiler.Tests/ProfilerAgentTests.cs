using System.Globalization;
using System.Text.Json;
using Kubebpf.Kubernetes.Tests;
using Kubebpf.Profiler.Profiles;
using Kubebpf.Profiler.Tests.Workloads;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Profiler.Tests;

/// <summary>
/// The published agent profiling a workload in a pod (network namespace and cgroup of its own) into a real InfluxDB
/// 1.6: the stored rows name the pod, every row's value is its self plus its children's values, and every query of
/// the profiling dashboard returns what its panel needs.
/// </summary>
[Trait("Category", "Kernel")]
[Collection("profiler kernel")]
public sealed class ProfilerAgentTests(InfluxDbServer influx, ITestOutputHelper log) : IClassFixture<InfluxDbServer>
{
    private const string Namespace = "shop";
    private const string WorkloadName = "hog";

    [Fact]
    public async Task Stored_rows_name_the_pod_add_up_and_feed_every_dashboard_query()
    {
        KernelTest.RequireRoot();
        var from = DateTimeOffset.UtcNow.AddMinutes(-1);
        using var pods = NetworkPods.Create(1);
        var pod = pods.Pods[0];
        var podName = $"hog-{pods.Prefix}";
        var database = "profile_" + Guid.NewGuid().ToString("N")[..12];
        var work = Directory.CreateTempSubdirectory("kubebpf-profile-agent-").FullName;
        var metadata = Path.Combine(work, "workloads.yaml");
        File.WriteAllText(metadata, $"""
            workloads:
              - namespace: {Namespace}
                pod: {podName}
                workload: {"{"} kind: Deployment, name: {WorkloadName} {"}"}
                interfaces: [{pod.HostInterface}]
                ips: [{pod.IPv4}, "{pod.IPv6}"]
            """);
        var exe = Workload.CompileCpuHog();
        var command = Path.GetFileName(exe);
        var agent = AgentProcess.Start(new
        {
            Agent = new { PluginDirectories = new[] { Path.Combine(RepositoryPaths.PublishedAgent, "plugins") }, FlushInterval = "00:00:01" },
            Plugins = new Dictionary<string, object>
            {
                ["Metadata"] = new { Plugin = "StaticMetadata", File = metadata },
                ["Profiler"] = new { Interval = "00:00:03", ReadInterval = "00:00:01", Processes = new[] { command } },
                ["InfluxDb"] = new { Url = influx.Url, Database = database, Buffer = new { FlushInterval = "00:00:00.200" } },
            },
        }, work);
        try
        {
            await RecordAndCheckAsync(agent, database, pod, podName, exe, command, from);
        }
        finally
        {
            agent.Dispose();
            Directory.Delete(work, recursive: true);
            Directory.Delete(Path.GetDirectoryName(exe)!, recursive: true);
        }
    }

    private async Task RecordAndCheckAsync(AgentProcess agent, string database, Pod pod, string podName, string exe, string command, DateTimeOffset from)
    {
        await agent.WaitForLogAsync("Profiling", TimeSpan.FromSeconds(30));

        double cpuSeconds;
        using (var hog = Workload.Start(pod.Namespace, cpu: null, environment: null, exe, "8"))
        {
            cpuSeconds = long.Parse(hog.ReadLine(TimeSpan.FromSeconds(40)).Split(' ')[1], CultureInfo.InvariantCulture) / 1e6;
            Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(30))); // the last window is written at stop, the process still alive
        }

        var windows = (await influx.QueryAsync(database, $"SHOW TAG VALUES FROM \"cpu_profile\" WITH KEY = \"window\" WHERE \"pod\" = '{podName}'"))
            .Select(r => r.Values["value"].GetString()!).Order(StringComparer.Ordinal).ToList();
        Assert.True(windows.Count >= 2, $"windows: {string.Join(", ", windows)}\n{agent.StandardError}");
        long samples = 0, hotA = 0, hotB = 0;
        foreach (var window in windows)
        {
            var stored = await influx.QueryAsync(database,
                $"SELECT \"label\", \"level\", \"value\", \"self\", \"namespace\", \"workload\" FROM \"cpu_profile\" WHERE \"pod\" = '{podName}' AND \"window\" = '{window}'");
            Assert.All(stored, r => Assert.Equal((Namespace, WorkloadName), (r.Values["namespace"].GetString(), r.Values["workload"].GetString())));
            var rows = stored.Select(Row).ToList();
            FlameRows.AssertConsistent(rows);
            samples += FlameRows.Process(rows, command);
            hotA += FlameRows.Function(rows, command, "hot_a").Value;
            hotB += FlameRows.Function(rows, command, "hot_b").Value;
        }

        var expected = cpuSeconds * 99;
        log.WriteLine($"{windows.Count} windows; {samples} samples for {cpuSeconds:0.00} s of CPU (expected {expected:0}); hot_a {hotA}, hot_b {hotB}");
        // A few hundred samples at most here: the exact count and split are CpuSamplingKernelTests' to prove; this checks storage.
        Assert.True(Math.Abs(samples - expected) <= 0.25 * expected, $"{samples} samples stored for {cpuSeconds:0.00} s of CPU (expected {expected:0} ± 25%)");
        Assert.True(hotA > hotB && hotB > 0, $"hot_a {hotA}, hot_b {hotB}");

        await AssertDashboardAsync(database, podName, windows[0], command, from, DateTimeOffset.UtcNow.AddMinutes(1));
    }

    private async Task AssertDashboardAsync(string database, string podName, string window, string command, DateTimeOffset from, DateTimeOffset to)
    {
        var file = Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "dashboards", "cpu-profile.json");
        var variables = new Dictionary<string, string?> { ["namespace"] = null, ["pod"] = podName, ["window"] = window };
        var results = new Dictionary<string, IReadOnlyList<InfluxRow>>();
        foreach (var (name, query) in GrafanaQuery.Queries(File.ReadAllText(file)))
        {
            var answer = await influx.QueryAsync(database, GrafanaQuery.Substitute(query, variables, from, to, "1s"));
            Assert.True(answer.Count > 0, $"{name} returned nothing: {query}");
            results[name] = answer;
        }

        Assert.Equal(7, results.Count);
        Assert.Equal([Namespace], results["variable namespace"].Select(r => r.Values["value"].GetString()));
        Assert.Equal([podName], results["variable pod"].Select(r => r.Values["value"].GetString()));
        Assert.Contains(window, results["variable window"].Select(r => r.Values["value"].GetString()));

        // Table format gives the panel one frame: label a string, level, value and self numbers, rows in depth-first order.
        var flame = results["panel 'Flame graph of $pod, window $window' A"];
        Assert.All(flame, r => Assert.Equal(
            (JsonValueKind.String, JsonValueKind.Number, JsonValueKind.Number, JsonValueKind.Number),
            (r.Values["label"].ValueKind, r.Values["level"].ValueKind, r.Values["value"].ValueKind, r.Values["self"].ValueKind)));
        Assert.Single(flame.Select(r => r.Series).Distinct());
        var rows = flame.Select(Row).ToList();
        FlameRows.AssertConsistent(rows);
        Assert.Equal((ProfileWindow.RootLabel, command), (rows[0].Label, rows[1].Label));

        var functions = results["panel 'Top functions of $pod by self samples (selected range)' A"]
            .OrderByDescending(r => r.Values["self"].GetInt64()).Select(r => r.Tags["function"]).ToList();
        Assert.Equal(["hot_a", "hot_b"], functions.Take(2));
        Assert.All(results["panel 'Samples per window by pod' A"], r => Assert.Equal((Namespace, podName), (r.Tags["namespace"], r.Tags["pod"])));
        Assert.All(results["panel 'Profiler losses and unresolved frames' A"], r => Assert.Equal(0, r.Values["counts_full"].GetInt64()));
    }

    private static FlameRow Row(InfluxRow row) =>
        new(row.Values["level"].GetInt32(), row.Values["label"].GetString()!, row.Values["value"].GetInt64(), row.Values["self"].GetInt64());
}
