using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.Testing;

/// <summary>Builds one plugin instance's container the way the host does, from in-memory settings.</summary>
public static class PluginHarness
{
    /// <summary>
    /// Runs <paramref name="plugin"/>'s <c>ConfigureServices</c> for an instance named <paramref name="instanceName"/>
    /// with <paramref name="settings"/> as its configuration section, and test metrics, the context and the system clock as the host's services.
    /// </summary>
    public static ServiceProvider Configure(IPlugin plugin, string instanceName, Dictionary<string, string?> settings)
    {
        ArgumentNullException.ThrowIfNull(plugin);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        var context = new PluginContext(instanceName, "", configuration);
        services.AddSingleton<IAgentMetrics>(new TestAgentMetrics());
        services.AddSingleton(context);
        services.AddSingleton(TimeProvider.System);
        plugin.ConfigureServices(services, context);
        return services.BuildServiceProvider();
    }
}
