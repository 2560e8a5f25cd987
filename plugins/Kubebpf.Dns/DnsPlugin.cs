using Kubebpf.Dns.Search;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.Dns;

/// <summary>
/// DNS as a datagram (UDP) and stream (TCP) protocol of the capture plugin (Kubebpf.Capture): every query paired with
/// its answer or timed out, one exchange each; answered addresses offered to every plugin as learned peer names.
/// </summary>
public sealed class DnsPlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        var options = PluginOptions.Load<DnsOptions>(context);
        services.AddSingleton(options);
        services.AddSingleton(provider => new DnsState(
            options, provider.GetRequiredService<IAgentMetrics>(), options.ReadPodResolvConf ? new PodProcessFinder().SearchDomains : null));
        services.AddSingleton<IDatagramProtocol, DnsDatagramProtocol>();
        services.AddSingleton<IStreamProtocol, DnsStreamProtocol>();
        services.AddSingleton<IPeerNameSource>(provider => provider.GetRequiredService<DnsState>().Names);
    }
}
