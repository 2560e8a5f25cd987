using Kubebpf.Capture.Capture;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.Capture;

/// <summary>
/// The packet capture: a socket filter on every observed interface, TCP reassembly and UDP flows done once, and
/// the protocol parsers other plugin instances register, fed from it. Publishes <see cref="Sdk.Events.Exchange"/> events.
/// </summary>
public sealed class CapturePlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(PluginOptions.Load<PacketCaptureOptions>(context));
        services.AddSingleton<IProbe, CaptureProbe>();
    }
}
