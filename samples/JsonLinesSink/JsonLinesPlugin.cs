using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace JsonLinesSink;

/// <summary>Entry point the agent finds in JsonLinesSink.dll.</summary>
public sealed class JsonLinesPlugin : IPlugin
{
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        var options = PluginOptions.Load<JsonLinesOptions>(context);
        // A relative path is relative to the agent's working directory, as for every other path in its configuration.
        options.Path = Path.GetFullPath(options.Path);
        services.AddSingleton(options);
        services.AddSingleton<IPointSink, JsonLinesPointSink>();
    }
}
