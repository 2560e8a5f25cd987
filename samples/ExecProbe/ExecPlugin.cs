using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ExecProbe;

/// <summary>Entry point the agent finds in ExecProbe.dll.</summary>
public sealed class ExecPlugin : IPlugin
{
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        var options = new ExecProbeOptions();
        context.Configuration.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        if (options.PollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Plugins:{context.InstanceName}:PollInterval must be positive (was {options.PollInterval}).");
        }

        services.AddSingleton(options);
        services.AddSingleton(ExecContract.ProcessExec);
        services.AddSingleton<IProbe, ExecTracepointProbe>();
    }
}
