using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.Http;

/// <summary>
/// HTTP/1.x as a stream protocol of the capture plugin (Kubebpf.Capture): no probe of its own, it parses the TCP
/// connections the capture classifies as HTTP and hands back one exchange per request/response pair.
/// </summary>
public sealed class HttpPlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        services.AddSingleton(PluginOptions.Load<HttpOptions>(context));
        services.AddSingleton<IStreamProtocol, HttpProtocol>();
    }
}
