using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kubebpf.InfluxDb;

/// <summary>
/// The InfluxDB sink plugin: writes every point to InfluxDB 1.x (<c>/write</c>) or 2.x (<c>/api/v2/write</c>).
/// Settings are validated when the plugin loads; an unknown or invalid one fails this plugin instance with a message naming it.
/// </summary>
public sealed class InfluxDbPlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        var options = PluginOptions.Load<InfluxDbSinkOptions>(context);
        InfluxDbSinkOptions.ApplyDefaults(options);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<IPointSink>(provider =>
            options.ApiVersion == 2
                ? ActivatorUtilities.CreateInstance<InfluxDbV2Sink>(provider)
                : ActivatorUtilities.CreateInstance<InfluxDbV1Sink>(provider));
    }
}
