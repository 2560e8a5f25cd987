using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MyProbe;

/// <summary>The entry point the agent finds in MyProbe.dll: registers the probe, the processor and the output contract.</summary>
public sealed class ProbePlugin : IPlugin
{
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        var options = new ProbeOptions();
        // Unknown keys are errors: a typo in the configuration is reported instead of silently ignored.
        context.Configuration.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        if (options.PollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Plugins:{context.InstanceName}:PollInterval must be positive (was {options.PollInterval}).");
        }

        services.AddSingleton(options);
        services.AddSingleton(ForkContract.ProcessForks);
        services.AddSingleton<ForkCounter>();
        services.AddFlushable<ForkCounter>();
        services.AddSingleton<IProbe, ForkProbe>();
    }
}
