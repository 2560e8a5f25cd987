using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.StaticMetadata;

/// <summary>Registers a <see cref="StaticMetadataSource"/> as the instance's workload metadata source.</summary>
public sealed class StaticMetadataPlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Configuration.Get<StaticMetadataOptions>() ?? new StaticMetadataOptions();
        if (string.IsNullOrWhiteSpace(options.File))
        {
            throw new InvalidOperationException($"Plugins:{context.InstanceName}:File is required: the path of the workload file (YAML or JSON)");
        }

        services.AddSingleton(options);
        services.AddSingleton<StaticMetadataSource>();
        services.AddSingleton<IWorkloadMetadataSource>(sp => sp.GetRequiredService<StaticMetadataSource>());
    }
}
