using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Kubebpf.Console;

/// <summary>Registers the <see cref="ConsoleSink"/>, rendering to standard output unless an <c>IAnsiConsole</c> is already registered.</summary>
public sealed class ConsolePlugin : IPlugin
{
    /// <inheritdoc />
    /// <exception cref="OptionsValidationException">The configuration section has an unknown key or a bad value.</exception>
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        var options = PluginOptions.Load<ConsoleSinkOptions>(context);
        services.AddSingleton(options);
        services.TryAddSingleton(_ => ConsoleOutput.CreateForStandardOutput(options.Width));
        services.AddSingleton<IPointSink, ConsoleSink>();
    }
}
