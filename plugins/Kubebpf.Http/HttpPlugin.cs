using Kubebpf.Http.Capture;
using Kubebpf.Http.Tracking;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.Http;

/// <summary>The HTTP/1.x probe: a socket filter on the observed interfaces, paired into <see cref="Sdk.Events.HttpExchange"/> events.</summary>
public sealed class HttpPlugin : IPlugin
{
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        // One flat section configures both halves: what to capture and how to track it.
        services.AddSingleton(context.Configuration.Get<SegmentCaptureOptions>() ?? new SegmentCaptureOptions());
        services.AddSingleton(context.Configuration.Get<HttpTrackerOptions>() ?? new HttpTrackerOptions());
        services.AddSingleton<IProbe, HttpProbe>();
    }
}
