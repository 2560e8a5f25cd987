using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kubebpf.InfluxDb;

/// <summary>
/// The InfluxDB sink plugin: writes every point to InfluxDB 1.x (<c>/write</c>) or 2.x (<c>/api/v2/write</c>).
/// Settings are validated when the sink is built; an invalid one fails this plugin instance with a message naming it.
/// </summary>
public sealed class InfluxDbPlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        services.AddOptions<InfluxDbSinkOptions>()
            .Configure(options => context.Configuration.Bind(options))
            .PostConfigure(InfluxDbSinkOptions.ApplyDefaults);
        services.AddSingleton<IValidateOptions<InfluxDbSinkOptions>>(new InfluxDbSinkOptionsValidator(context.InstanceName));
        services.AddSingleton<IPointSink>(provider =>
            provider.GetRequiredService<IOptions<InfluxDbSinkOptions>>().Value.ApiVersion == 2
                ? ActivatorUtilities.CreateInstance<InfluxDbV2Sink>(provider)
                : ActivatorUtilities.CreateInstance<InfluxDbV1Sink>(provider));
    }
}
