using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.Kubernetes;

/// <summary>
/// Registers the Kubernetes metadata source: a workload metadata source answering from caches that its probe
/// (the API watches and the pod interface discovery) keeps up to date, and the health files.
/// </summary>
public sealed class KubernetesPlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = PluginOptions.Load<KubernetesOptions>(context);
        services.AddSingleton(options);
        services.AddSingleton(_ => KubernetesConnection.Create(options.KubeConfig));
        services.AddSingleton<KubernetesMetadataSource>();
        services.AddSingleton<IWorkloadMetadataSource>(sp => sp.GetRequiredService<KubernetesMetadataSource>());
        services.AddSingleton<IProbe>(sp => sp.GetRequiredService<KubernetesMetadataSource>());
        services.AddSingleton<IFlushable>(sp => sp.GetRequiredService<KubernetesMetadataSource>());
    }
}
