using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.DependencyInjection;

namespace RedisParser;

/// <summary>
/// Entry point the agent finds in RedisParser.dll: registers the Redis protocol with the capture. The plugin has no
/// probe and writes no point itself: the capture feeds it connections, and the R.E.D. plugin turns its exchanges into
/// <c>redis_red</c> and <c>redis_requests</c>.
/// </summary>
public sealed class RedisPlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        services.AddSingleton(PluginOptions.Load<RedisOptions>(context));
        services.AddSingleton<RedisCounters>();
        services.AddSingleton<IStreamProtocol, RedisProtocol>();
    }
}
