using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.StaticMetadata;

/// <summary>Registers a <see cref="StaticMetadataSource"/> as the instance's workload metadata source.</summary>
public sealed class StaticMetadataPlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        services.AddSingleton(PluginOptions.Load<StaticMetadataOptions>(context));
        services.AddSingleton<StaticMetadataSource>();
        services.AddSingleton<IWorkloadMetadataSource>(sp => sp.GetRequiredService<StaticMetadataSource>());
    }
}
