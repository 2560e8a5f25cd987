using System.Text.RegularExpressions;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.ServiceMap.Output;
using Kubebpf.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kubebpf.ServiceMap.Tests;

public sealed partial class ServiceMapPluginTests
{
    [Fact]
    public void The_plugin_subscribes_to_calls_and_connections_writes_its_declared_measurements_and_adds_kubebpf_map()
    {
        using var services = Build(new() { ["NodeName"] = "node-a", ["SnapshotFile"] = "", ["ResolveServiceAddresses"] = "false" });
        Assert.Equal(
            [typeof(Exchange), typeof(TcpConnectionReport)],
            services.GetServices<EventSubscription>().Select(s => s.EventType).OrderBy(t => t.Name));
        Assert.Equal(ServiceMapContract.All.Select(c => c.Name), services.GetServices<MeasurementContract>().Select(c => c.Name));
        Assert.Equal("map", Assert.Single(services.GetServices<IAgentCommand>()).Name);
        Assert.Single(services.GetServices<IFlushable>());
    }

    [Theory]
    [InlineData("MaxEdges", "0", "MaxEdges must be between 1 and 1000000")]
    [InlineData("MaxPortsPerPeer", "70000", "MaxPortsPerPeer must be between 1 and 65535")]
    [InlineData("Networks:office:0", "172.16.0.0/33", "Networks:office: '172.16.0.0/33' is not a CIDR block")]
    [InlineData("MaxEdgez", "1", "MaxEdgez")]
    public void Bad_settings_stop_the_plugin_at_load_naming_the_key(string key, string value, string message)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Build(new() { [key] = value }));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_README_names_every_measurement_tag_and_field_the_plugin_declares()
    {
        var readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"));
        var named = CodeSpans().Matches(readme).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var declared = ServiceMapContract.All.SelectMany(c => c.Tags.Select(t => t.Key).Concat(c.Fields.Select(f => f.Key)).Append(c.Name)).Distinct();
        var missing = declared.Where(name => !named.Contains(name)).ToList();
        Assert.True(missing.Count == 0, $"not in the README: {string.Join(", ", missing)}");
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton<IAgentMetrics>(new TestAgentMetrics());
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Kubebpf.Sdk.Metadata.IWorkloadResolver>(new FakeResolver());
        var context = new PluginContext("ServiceMap", AppContext.BaseDirectory, new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        new ServiceMapPlugin().ConfigureServices(services, context);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    // `name`, also inside a comma-separated cell such as `le_1ms`, `le_2.5ms`.
    [GeneratedRegex("`([a-z_0-9.]+)`")]
    private static partial Regex CodeSpans();
}
