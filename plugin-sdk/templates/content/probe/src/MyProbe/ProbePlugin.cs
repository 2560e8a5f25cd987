using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace MyProbe;

/// <summary>The entry point the agent finds in MyProbe.dll: registers the probe, the processor and the output contract.</summary>
public sealed class ProbePlugin : IPlugin
{
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        // Unknown keys and invalid values are errors naming the key: a typo is reported instead of silently ignored.
        services.AddSingleton(PluginOptions.Load<ProbeOptions>(context));
        services.AddSingleton(ForkContract.ProcessForks);
        services.AddSingleton<ForkCounter>();
        services.AddFlushable<ForkCounter>();
        services.AddSingleton<IProbe, ForkProbe>();
    }
}
