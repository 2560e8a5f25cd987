using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>A broken plugin dropped into a second plugin folder: it is stopped and counted, the others record everything.</summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class PluginFailureTests(InfluxDbServer influx) : IDisposable
{
    private readonly string _pluginRoot = Directory.CreateTempSubdirectory("kubebpf-plugins-").FullName;

    [Fact]
    public async Task Instances_failing_while_running_and_in_events_are_stopped_while_traffic_is_still_counted_exactly()
    {
        InstallFaultyPlugin();
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
        await scenario.StartAgentAsync(
            new Dictionary<string, object>
            {
                ["BrokenRunning"] = new { Plugin = "FaultyPlugin", FailIn = "Running" },
                ["BrokenEvents"] = new { Plugin = "FaultyPlugin", FailIn = "Events" },
            },
            [_pluginRoot]);

        TrafficPlan.Run(scenario.Client, scenario.Server.IPv4, scenario.WorkDirectory);
        var plan = TrafficPlan.All;
        Assert.Equal(plan.Count, (await nginx.ReadAccessLogAsync(plan.Count, TimeSpan.FromSeconds(10))).Count);
        await scenario.Agent!.WaitForLogAsync("Plugin instance BrokenEvents failed while handling Exchange events", TimeSpan.FromSeconds(10));
        await scenario.WaitForCallLogAsync(2 * plan.Count, TimeSpan.FromSeconds(15));
        Assert.Equal(0, await scenario.StopAgentAsync());

        await scenario.AssertCallLogAsync(plan);
        Assert.Contains("Plugin instance BrokenRunning failed while running probe FaultyComponent", scenario.Agent.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, (await scenario.LastAgentMetricsAsync("agent"))["plugin_failures"]);
        string[] instances = ["BrokenRunning", "BrokenEvents", "Capture", "Http", "Red", "Metadata", "InfluxDb"];
        var running = new Dictionary<string, long>();
        foreach (var instance in instances)
        {
            running[instance] = (await scenario.LastAgentMetricsAsync(instance))["running"];
        }

        Assert.Equal(instances.ToDictionary(i => i, i => i.StartsWith("Broken", StringComparison.Ordinal) ? 0L : 1L), running);
    }

    public void Dispose() => Directory.Delete(_pluginRoot, recursive: true);

    /// <summary>The faulty plugin's build output (same configuration as this assembly) as a drop-in folder.</summary>
    private void InstallFaultyPlugin()
    {
        var target = Directory.CreateDirectory(Path.Combine(_pluginRoot, "Kubebpf.FaultyPlugin")).FullName;
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.BuildOutput("Kubebpf.FaultyPlugin")))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }
}
