using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// The entry point of a plugin assembly. The host finds the one public, non-abstract type implementing it
/// and creates it with its parameterless constructor.
/// </summary>
public interface IPlugin
{
    /// <summary>
    /// Registers the plugin's components (<see cref="IProbe"/>, <see cref="IPointSink"/>,
    /// <see cref="Metadata.IWorkloadMetadataSource"/>, event subscribers, <see cref="IFlushable"/>) into the plugin's own container.
    /// Called once per plugin instance, on the host's start-up thread, before any component starts.
    /// The host has already registered <see cref="PluginContext"/>, logging, <see cref="TimeProvider"/>,
    /// <see cref="IAgentMetrics"/>, <see cref="IPointWriter"/>, <see cref="IEventPublisher{T}"/> and <see cref="Metadata.IWorkloadResolver"/>.
    /// </summary>
    void ConfigureServices(IServiceCollection services, PluginContext context);
}

/// <summary>What the host tells a plugin instance about itself.</summary>
/// <param name="InstanceName">The configured instance name (the plugin name unless several instances run).</param>
/// <param name="PluginDirectory">The folder the plugin assembly was loaded from.</param>
/// <param name="Configuration">The instance's own configuration section (<c>Plugins:&lt;instance&gt;</c>).</param>
public sealed record PluginContext(string InstanceName, string PluginDirectory, IConfiguration Configuration);
