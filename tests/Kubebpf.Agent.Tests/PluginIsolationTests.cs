using Kubebpf.Agent.Plugins;
using Kubebpf.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Agent.Tests;

/// <summary>A plugin failing in any phase is stopped and reported; the others keep running.</summary>
public sealed class PluginIsolationTests : IDisposable
{
    private readonly string _pluginRoot = Directory.CreateTempSubdirectory("kubebpf-plugins-").FullName;

    public PluginIsolationTests()
    {
        // The build output of the faulty plugin, laid out as a drop-in folder: <root>/<Name>/<Name>.dll
        var built = RepositoryPaths.BuildOutput("Kubebpf.FaultyPlugin");
        var target = Directory.CreateDirectory(Path.Combine(_pluginRoot, "Kubebpf.FaultyPlugin")).FullName;
        foreach (var file in Directory.EnumerateFiles(built))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    [Theory]
    [InlineData("Loading", "loading")]
    [InlineData("Running", "running probe")]
    [InlineData("Flushing", "flushing")]
    public async Task A_failing_instance_is_stopped_and_reported_while_another_keeps_running(string failIn, string expectedPhase)
    {
        await using var runtime = CreateRuntime(new()
        {
            ["Plugins:Broken:Plugin"] = "FaultyPlugin",
            ["Plugins:Broken:FailIn"] = failIn,
            ["Plugins:Healthy:Plugin"] = "Kubebpf.FaultyPlugin",
            ["Plugins:Healthy:Buffer:BufferLimit"] = "10000",
        });
        runtime.Build();
        runtime.Start();

        var broken = runtime.Instances.Single(i => i.InstanceName == "Broken");
        var healthy = runtime.Instances.Single(i => i.InstanceName == "Healthy");
        await WaitUntilAsync(() => broken.State == PluginState.Failed || failIn == "Flushing");
        if (failIn == "Flushing")
        {
            runtime.FlushAll();
        }

        Assert.Equal(PluginState.Failed, broken.State);
        Assert.StartsWith(expectedPhase, broken.Error, StringComparison.Ordinal);
        Assert.Contains("as configured", broken.Error, StringComparison.Ordinal);
        Assert.Equal(PluginState.Running, healthy.State);
        Assert.Equal(1, PluginFailures(runtime));
        await runtime.StopAsync();
        Assert.Equal(PluginState.Stopped, healthy.State);
    }

    [Fact]
    public async Task An_unknown_plugin_name_is_reported_with_what_was_found()
    {
        await using var runtime = CreateRuntime(new() { ["Plugins:Nope:Plugin"] = "DoesNotExist" });
        runtime.Build();

        var instance = Assert.Single(runtime.Instances);
        Assert.Equal(PluginState.NotFound, instance.State);
        Assert.Contains("no plugin folder named 'DoesNotExist'", instance.Error, StringComparison.Ordinal);
        Assert.Contains("found: Kubebpf.FaultyPlugin", instance.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disabled_instance_is_not_loaded()
    {
        await using var runtime = CreateRuntime(new() { ["Plugins:Off:Plugin"] = "FaultyPlugin", ["Plugins:Off:Enabled"] = "false" });
        runtime.Build();

        Assert.Equal(PluginState.Disabled, Assert.Single(runtime.Instances).State);
    }

    [Fact]
    public void No_configured_plugin_is_a_configuration_error()
    {
        var runtime = CreateRuntime([]);

        var error = Assert.Throws<ConfigurationException>(runtime.Build);
        Assert.Contains("No plugin is configured", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Contract_types_keep_one_identity_across_load_contexts()
    {
        await using var runtime = CreateRuntime(new() { ["Plugins:Healthy:Plugin"] = "FaultyPlugin" });
        runtime.Build();

        var instance = Assert.Single(runtime.Instances);
        Assert.Equal(PluginState.Loaded, instance.State);
        // Resolved through the host's own IProbe/IPointSink types: this only works if the SDK was shared, not copied.
        Assert.Single(instance.Probes);
        Assert.Single(instance.Sinks);
        Assert.Single(instance.Subscriptions);
        Assert.NotEqual(typeof(AgentRuntime).Assembly, instance.Probes[0].GetType().Assembly);
    }

    private AgentRuntime CreateRuntime(Dictionary<string, string?> settings)
    {
        settings["Agent:PluginDirectories:0"] = _pluginRoot;
        settings["Agent:CheckKernel"] = "false"; // these probes need nothing from the kernel
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = AgentConfiguration.Options(configuration);
        return new AgentRuntime(configuration, options, NullLoggerFactory.Instance, TimeProvider.System, AppContext.BaseDirectory);
    }

    private static long PluginFailures(AgentRuntime runtime) =>
        runtime.Metrics.For("agent").Read().Single(m => m.Name == "plugin_failures").Value;

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }
    }

    public void Dispose() => Directory.Delete(_pluginRoot, recursive: true);
}
