using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kubebpf.Console;

/// <summary>Registers the <see cref="ConsoleSink"/>, rendering to standard output unless an <c>IAnsiConsole</c> is already registered.</summary>
public sealed class ConsolePlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Configuration.Get<ConsoleSinkOptions>() ?? new ConsoleSinkOptions();
        options.Validate($"Plugins:{context.InstanceName}");
        services.AddSingleton(options);
        services.TryAddSingleton(_ => ConsoleOutput.CreateForStandardOutput(options.Width));
        services.AddSingleton<IPointSink, ConsoleSink>();
    }
}
