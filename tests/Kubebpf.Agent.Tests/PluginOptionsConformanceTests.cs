using Kubebpf.Agent.Plugins;
using Kubebpf.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Agent.Tests;

/// <summary>
/// Every plugin the agent ships reads its section the one way (the SDK's <c>PluginOptions</c>): an unknown key and an
/// out-of-range value stop the instance when it loads, with a message naming the key. Run against the published agent's
/// plugin folders, through the host's own loading.
/// </summary>
public sealed class PluginOptionsConformanceTests
{
    /// <summary>Each shipped plugin with a key it validates and a value out of that key's range.</summary>
    public static TheoryData<string, string, string> Plugins => new()
    {
        { "Capture", "MaxSegmentBytes", "-1" },
        { "Http", "MaxHeadBytes", "1" },
        { "Dns", "MaxPendingQueries", "0" },
        { "MySql", "MaxStatementBytes", "1" },
        { "Red", "MaxSeries", "0" },
        { "ServiceMap", "MaxEdges", "0" },
        { "InfluxDb", "GzipThresholdBytes", "-1" },
        { "Console", "MaxRows", "0" },
        { "Profiler", "Frequency", "0" },
        { "StaticMetadata", "ReloadInterval", "-00:00:01" },
        { "Kubernetes", "MinBackoff", "00:00:00" },
        { "Otlp", "Temporality", "sometimes" },
        { "Prometheus", "MaxSeries", "0" },
    };

    [Fact]
    public void Every_published_plugin_is_covered()
    {
        var published = PluginCatalog.Discover([PublishedPlugins], AppContext.BaseDirectory).Select(p => p.Name);

        Assert.Equal(published.Order(StringComparer.Ordinal), Plugins.Select(row => "Kubebpf." + row[0]).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Plugins))]
    public async Task An_unknown_key_stops_the_instance_at_load_naming_the_key(string plugin, string validatedKey, string outOfRange)
    {
        _ = (validatedKey, outOfRange);
        var error = await LoadErrorAsync(plugin, new() { [$"Plugins:{plugin}:NoSuchKey"] = "100" });

        Assert.Contains("'NoSuchKey'", error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Plugins))]
    public async Task An_out_of_range_value_stops_the_instance_at_load_naming_the_key(string plugin, string validatedKey, string outOfRange)
    {
        var error = await LoadErrorAsync(plugin, new() { [$"Plugins:{plugin}:{validatedKey}"] = outOfRange });

        Assert.Contains($"Plugin '{plugin}': {validatedKey} ", error, StringComparison.Ordinal);
    }

    private static string PublishedPlugins => Path.Combine(RepositoryPaths.PublishedAgent, "plugins");

    private static async Task<string> LoadErrorAsync(string plugin, Dictionary<string, string?> settings)
    {
        settings["Agent:PluginDirectories:0"] = PublishedPlugins;
        settings["Agent:CheckKernel"] = "false";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        await using var runtime = new AgentRuntime(configuration, AgentConfiguration.Options(configuration), NullLoggerFactory.Instance, TimeProvider.System, AppContext.BaseDirectory);
        runtime.Build();

        var instance = runtime.Instances.Single();
        Assert.Equal(PluginState.Failed, instance.State);
        Assert.StartsWith("loading", instance.Error, StringComparison.Ordinal);
        return instance.Error!;
    }
}
