using Kubebpf.Red.Aggregation;
using Kubebpf.Red.CallLog;
using Kubebpf.Red.Contract;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kubebpf.Red;

/// <summary>
/// Turns the <see cref="Exchange"/> events of every protocol parser into the call log (<c>&lt;protocol&gt;_requests</c>)
/// and rate / errors / duration per flush window (<c>&lt;protocol&gt;_red</c>), named by each exchange's protocol
/// descriptor (HTTP: <c>http_requests</c>, <c>http_red</c>). See README.md for configuration and output.
/// </summary>
public sealed class RedPlugin : IPlugin
{
    /// <inheritdoc />
    /// <exception cref="OptionsValidationException">The configuration section has an unknown key or a bad value.</exception>
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = PluginOptions.Load<RedOptions>(context);
        services.AddSingleton(Options.Create(options));
        services.AddEventSubscriber<Exchange, RedAggregator>();
        services.AddFlushable<RedAggregator>();
        foreach (var contract in RedOutputContract.Pattern.All)
        {
            services.AddSingleton(contract);
        }

        if (options.CallLog.Enabled)
        {
            services.AddEventSubscriber<Exchange, CallLogWriter>();
            services.AddFlushable<CallLogWriter>();
        }
    }
}
