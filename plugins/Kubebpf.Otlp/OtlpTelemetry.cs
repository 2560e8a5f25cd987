using System.Diagnostics.Metrics;
using Kubebpf.Otlp.CallLog;
using Kubebpf.Otlp.Export;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Kubebpf.Otlp;

/// <summary>
/// The OpenTelemetry SDK pipelines of one plugin instance: a meter provider exporting this instance's meter every
/// <see cref="OtlpOptions.ExportInterval"/>, and (when the call log is on) a logger whose records go through a bounded
/// batch processor. Both exporters send through an <see cref="ExportTransport"/>, which retries and counts losses.
/// Disposing exports what is pending (within the export timeout) and stops both.
/// </summary>
internal sealed class OtlpTelemetry : IDisposable
{
    /// <summary>The <c>service.name</c> of the agent's resource.</summary>
    public const string ServiceName = "kubebpf-agent";

    private readonly MeterProvider _meterProvider;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly LogQueueDrops? _logQueueDrops;
    private readonly ExportTransport _metricTransport;
    private readonly ExportTransport? _logTransport;

    public OtlpTelemetry(OtlpOptions options, PluginContext context, IAgentMetrics metrics, TimeProvider time)
    {
        Options = options;
        var cumulative = options.Temporality == "cumulative";
        var grpc = options.Protocol == OtlpOptions.Grpc;
        var losses = new ExportLosses(metrics);
        Meter = new Meter(MeterName(context.InstanceName), typeof(OtlpTelemetry).Assembly.GetName().Version?.ToString(3));

        _metricTransport = new ExportTransport(OtlpSignal.Metrics, grpc, options.Retry, options.ExportTimeout, losses, time);
        var exporter = new OtlpMetricExporter(ExporterOptions(options, "v1/metrics", _metricTransport));
        var reader = new PeriodicExportingMetricReader(exporter, Milliseconds(options.ExportInterval), Milliseconds(options.ExportTimeout))
        {
            TemporalityPreference = cumulative ? MetricReaderTemporalityPreference.Cumulative : MetricReaderTemporalityPreference.Delta,
        };
        _meterProvider = OpenTelemetry.Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(resource => ConfigureResource(resource))
            .AddMeter(Meter.Name)
            .AddView(_ => new MetricStreamConfiguration { CardinalityLimit = options.CardinalityLimit })
            .AddReader(reader)
            .Build();

        if (options.CallLog.Enabled)
        {
            _logTransport = new ExportTransport(OtlpSignal.Logs, grpc, options.Retry, options.ExportTimeout, losses, time);
            _logQueueDrops = new LogQueueDrops(losses.LogRecordsDropped);
            var logExporter = new OtlpLogExporter(ExporterOptions(options, "v1/logs", _logTransport));
            var callLog = options.CallLog;
            _loggerFactory = LoggerFactory.Create(logging => logging
                .SetMinimumLevel(LogLevel.Trace)
                .AddOpenTelemetry(logs =>
                {
                    logs.IncludeFormattedMessage = false;
                    logs.IncludeScopes = false;
                    logs.SetResourceBuilder(ConfigureResource(ResourceBuilder.CreateEmpty()));
                    logs.AddProcessor(new ExchangeTimestampProcessor());
                    logs.AddProcessor(new BatchLogRecordExportProcessor(
                        logExporter, callLog.MaxQueueSize, Milliseconds(callLog.ExportInterval), Milliseconds(options.ExportTimeout), callLog.MaxExportBatchSize));
                }));
        }
    }

    public OtlpOptions Options { get; }

    /// <summary>This instance's meter (scope <c>kubebpf.&lt;instance&gt;</c>): instruments created on it are exported.</summary>
    public Meter Meter { get; }

    /// <summary>The logger of the call log; null when the call log is off.</summary>
    public ILogger? CallLogger => _loggerFactory?.CreateLogger("kubebpf.call_log");

    public static string MeterName(string instanceName) => "kubebpf." + instanceName.ToLowerInvariant();

    public void Dispose()
    {
        // The meter provider exports once more on dispose: the last window's measurements are not lost at shutdown.
        _meterProvider.Dispose();
        _loggerFactory?.Dispose();
        _logQueueDrops?.Dispose();
        Meter.Dispose();
        _metricTransport.Dispose();
        _logTransport?.Dispose();
    }

    private static ResourceBuilder ConfigureResource(ResourceBuilder resource) => resource
        .AddService(ServiceName, serviceVersion: typeof(OtlpTelemetry).Assembly.GetName().Version?.ToString(3), serviceInstanceId: Environment.MachineName)
        .AddAttributes([new("host.name", Environment.MachineName)]);

    private static OtlpExporterOptions ExporterOptions(OtlpOptions options, string httpSignalPath, ExportTransport transport)
    {
        var grpc = options.Protocol == OtlpOptions.Grpc;
        var endpoint = options.Endpoint.TrimEnd('/');
        return new OtlpExporterOptions
        {
            // gRPC: the exporter appends the service's path; OTLP/HTTP set in code takes the full URL.
            Endpoint = new Uri(grpc ? endpoint : $"{endpoint}/{httpSignalPath}"),
            Protocol = grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf,
            Headers = string.IsNullOrWhiteSpace(options.Headers) ? null : options.Headers,
            TimeoutMilliseconds = Milliseconds(options.ExportTimeout),
            HttpClientFactory = transport.CreateClient,
        };
    }

    private static int Milliseconds(TimeSpan value) => (int)Math.Ceiling(value.TotalMilliseconds);
}
