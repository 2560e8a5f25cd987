using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace ExecProbe;

/// <summary>Entry point the agent finds in ExecProbe.dll.</summary>
public sealed class ExecPlugin : IPlugin
{
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        services.AddSingleton(PluginOptions.Load<ExecProbeOptions>(context));
        services.AddSingleton(ExecContract.ProcessExec);
        services.AddSingleton<IProbe, ExecTracepointProbe>();
    }
}
