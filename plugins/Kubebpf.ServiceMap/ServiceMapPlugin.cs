using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.ServiceMap.Aggregation;
using Kubebpf.ServiceMap.Naming;
using Kubebpf.ServiceMap.Output;
using Kubebpf.ServiceMap.Rendering;
using Kubebpf.ServiceMap.Services;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.ServiceMap;

/// <summary>
/// The service map: calls (<see cref="Exchange"/> events of every protocol) and TCP connections
/// (<see cref="TcpConnectionReport"/> events) per edge between workloads, counted once in the cluster, written per
/// flush window as <c>service_map_*</c> measurements. See README.md for configuration and output.
/// </summary>
public sealed class ServiceMapPlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = PluginOptions.Load<ServiceMapOptions>(context);
        services.AddSingleton(options);
        services.AddSingleton(sp => new NodeNamer(options, sp.GetService<IPeerNameResolver>()));
        if (options.ResolveServiceAddresses)
        {
            services.AddSingleton<IServiceAddressTranslator, ConntrackTranslator>();
        }
        else
        {
            services.AddSingleton<IServiceAddressTranslator, NoTranslation>();
        }

        services.AddSingleton<EdgeResolver>();
        services.AddSingleton<MapSnapshot>();
        services.AddEventSubscriber<Exchange, ServiceMapAggregator>();
        services.AddSingleton(new EventSubscription(typeof(TcpConnectionReport), typeof(ServiceMapAggregator)));
        services.AddFlushable<ServiceMapAggregator>();
        services.AddSingleton<IAgentCommand, MapCommand>();
        foreach (var contract in ServiceMapContract.All)
        {
            services.AddSingleton(contract);
        }
    }
}
