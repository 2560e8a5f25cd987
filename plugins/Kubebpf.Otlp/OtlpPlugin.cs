using Kubebpf.Otlp.CallLog;
using Kubebpf.Otlp.Metrics;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kubebpf.Otlp;

/// <summary>
/// The OTLP sink: records the <see cref="Exchange"/> events of every protocol as OpenTelemetry metrics (a request
/// counter and a duration histogram per protocol and side), optionally the call log as OTLP log records, and the
/// agent's self-metrics, exported over OTLP/gRPC or OTLP/HTTP protobuf. See README.md for configuration and output.
/// </summary>
public sealed class OtlpPlugin : IPlugin
{
    /// <inheritdoc />
    /// <exception cref="OptionsValidationException">The configuration section has an unknown key or a bad value.</exception>
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = PluginOptions.Load<OtlpOptions>(context);
        services.AddSingleton(options);
        services.AddSingleton<OtlpTelemetry>();
        services.AddEventSubscriber<Exchange, ExchangeMetrics>();
        if (options.AgentMetrics)
        {
            services.AddSingleton<IPointSink, AgentMetricsExport>();
        }

        if (options.CallLog.Enabled)
        {
            services.AddEventSubscriber<Exchange, CallLogExporter>();
            services.AddFlushable<CallLogExporter>();
        }
    }
}
