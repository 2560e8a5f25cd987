using Kubebpf.Red.Aggregation;
using Kubebpf.Red.CallLog;
using Kubebpf.Red.Contract;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kubebpf.Red;

/// <summary>
/// Turns <see cref="HttpExchange"/> events from any HTTP probe into the call log (<c>http_requests</c>) and
/// rate / errors / duration per flush window (<c>http_red</c>). See README.md for configuration and output.
/// </summary>
public sealed class RedPlugin : IPlugin
{
    /// <inheritdoc />
    /// <exception cref="OptionsValidationException">The configuration section has an unknown key or a bad value.</exception>
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(context);
        var options = RedOptionsLoader.Load(context.Configuration, context.InstanceName);
        services.AddSingleton(Options.Create(options));
        services.AddEventSubscriber<HttpExchange, RedAggregator>();
        services.AddFlushable<RedAggregator>();
        foreach (var contract in RedOutputContract.Measurements)
        {
            services.AddSingleton(contract);
        }

        if (options.CallLog.Enabled)
        {
            services.AddEventSubscriber<HttpExchange, CallLogWriter>();
        }
    }
}
