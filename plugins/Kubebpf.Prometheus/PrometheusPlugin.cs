using Kubebpf.Prometheus.Metrics;
using Kubebpf.Prometheus.RemoteWrite;
using Kubebpf.Prometheus.Scrape;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kubebpf.Prometheus;

/// <summary>
/// The Prometheus sink: cumulative request counters and duration histograms from the <see cref="Exchange"/> events of
/// every protocol, gauges from the other points the host hands to sinks, served on <c>/metrics</c> and sent by remote
/// write. See README.md for configuration, metric names and labels.
/// </summary>
public sealed class PrometheusPlugin : IPlugin
{
    /// <inheritdoc />
    /// <exception cref="OptionsValidationException">The configuration section has an unknown key or a bad value.</exception>
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = PluginOptions.Load<PrometheusOptions>(context);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(sp => new SeriesBudget(options.MaxSeries, sp.GetRequiredService<IAgentMetrics>()));

        services.AddEventSubscriber<Exchange, ExchangeMetrics>();
        services.AddFlushable<ExchangeMetrics>();
        services.AddSingleton<IMetricSource>(sp => sp.GetRequiredService<ExchangeMetrics>());

        services.AddSingleton<ServiceMapCounters>();
        services.AddFlushable<ServiceMapCounters>();
        services.AddSingleton<IMetricSource>(sp => sp.GetRequiredService<ServiceMapCounters>());

        services.AddSingleton<PointGauges>();
        services.AddSingleton<IPointSink>(sp => sp.GetRequiredService<PointGauges>());
        services.AddFlushable<PointGauges>();
        services.AddSingleton<IMetricSource>(sp => sp.GetRequiredService<PointGauges>());

        services.AddSingleton<MetricCollector>();
        if (options.ListenEndpoint() is not null)
        {
            services.AddSingleton<IProbe, ScrapeEndpoint>();
        }

        if (options.RemoteWrite.IsEnabled())
        {
            services.AddSingleton(_ => new RemoteWriteClient(new HttpClient { Timeout = options.RemoteWrite.Timeout }, options.RemoteWrite));
            services.AddSingleton<IProbe, RemoteWriter>();
        }
    }
}
