using Kubebpf.Sdk.CallLog;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Otlp;

/// <summary>The plugin's configuration section (<c>Plugins:&lt;instance&gt;</c>); keys as agreed for issue 16.</summary>
public sealed class OtlpOptions : IValidatedOptions
{
    /// <summary>The gRPC protocol name.</summary>
    public const string Grpc = "grpc";

    /// <summary>The OTLP/HTTP protobuf protocol name.</summary>
    public const string HttpProtobuf = "http/protobuf";

    /// <summary>
    /// The collector's base address: <c>http://collector:4317</c> for gRPC, <c>http://collector:4318</c> for
    /// http/protobuf (the sink appends <c>/v1/metrics</c> and <c>/v1/logs</c>, as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> does).
    /// </summary>
    public string Endpoint { get; set; } = "http://localhost:4317";

    /// <summary><c>grpc</c> or <c>http/protobuf</c>.</summary>
    public string Protocol { get; set; } = Grpc;

    /// <summary>Headers sent with every export, <c>key=value,key2=value2</c> (the form of <c>OTEL_EXPORTER_OTLP_HEADERS</c>).</summary>
    public string Headers { get; set; } = "";

    /// <summary>How often metrics are exported.</summary>
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one export may take, retries included.</summary>
    public TimeSpan ExportTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary><c>cumulative</c> (totals since start, what Prometheus-style backends expect) or <c>delta</c> (per export).</summary>
    public string Temporality { get; set; } = "cumulative";

    /// <summary>
    /// Retry transient failures (429, 502, 503, 504, gRPC UNAVAILABLE and the like) within <see cref="ExportTimeout"/>,
    /// honouring <c>Retry-After</c>: the OpenTelemetry exporter's in-memory retry.
    /// </summary>
    public bool Retry { get; set; } = true;

    /// <summary>Distinct attribute sets kept per metric; measurements of further sets go to one overflow series, counted.</summary>
    public int CardinalityLimit { get; set; } = 2000;

    /// <summary>
    /// Distinct normalised resources (<c>http.route</c>, DNS names, statement fingerprints) kept per workload and protocol;
    /// further ones are recorded as <c>{other}</c>, counted.
    /// </summary>
    public int MaxRoutesPerWorkload { get; set; } = 100;

    /// <summary>Export the agent's own counters (<c>kubebpf_agent</c>) as <c>kubebpf.agent.*</c> gauges.</summary>
    public bool AgentMetrics { get; set; } = true;

    /// <summary>The call log as OTLP log records.</summary>
    public OtlpCallLogOptions CallLog { get; set; } = new();

    /// <summary>The largest <see cref="CardinalityLimit"/> accepted.</summary>
    public const int MaxCardinalityLimit = 1_000_000;

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            yield return $"Endpoint must be an absolute http:// or https:// address, got '{Endpoint}'.";
        }

        if (Protocol is not (Grpc or HttpProtobuf))
        {
            yield return $"Protocol must be '{Grpc}' or '{HttpProtobuf}', got '{Protocol}'.";
        }

        if (HeaderParser.FirstError(Headers) is { } headerError)
        {
            yield return $"Headers: {headerError}";
        }

        if (Temporality is not ("cumulative" or "delta"))
        {
            yield return $"Temporality must be 'cumulative' or 'delta', got '{Temporality}'.";
        }

        foreach (var (name, value) in new[] { (nameof(ExportInterval), ExportInterval), (nameof(ExportTimeout), ExportTimeout), ("CallLog:ExportInterval", CallLog.ExportInterval) })
        {
            if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
            {
                yield return $"{name} must be positive and below 24 days, got {value}.";
            }
        }

        if (CardinalityLimit is < 2 or > MaxCardinalityLimit)
        {
            yield return $"CardinalityLimit must be between 2 and {MaxCardinalityLimit}, got {CardinalityLimit}.";
        }

        if (MaxRoutesPerWorkload < 1 || MaxRoutesPerWorkload > CardinalityLimit)
        {
            yield return $"MaxRoutesPerWorkload must be between 1 and CardinalityLimit ({CardinalityLimit}), got {MaxRoutesPerWorkload}.";
        }

        if (CallLog.MaxQueueSize < 1 || CallLog.MaxExportBatchSize < 1 || CallLog.MaxExportBatchSize > CallLog.MaxQueueSize)
        {
            yield return $"CallLog:MaxQueueSize must be positive and CallLog:MaxExportBatchSize between 1 and it, got {CallLog.MaxQueueSize} and {CallLog.MaxExportBatchSize}.";
        }

        foreach (var error in CallLog.Sampling.Validate())
        {
            yield return error;
        }
    }
}

/// <summary>Options of the call log as OTLP log records.</summary>
public sealed class OtlpCallLogOptions
{
    /// <summary>Export the call log; <see cref="Sampling"/> decides which exchanges get a record.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// Which exchanges get a record: errors and slow calls (bounded), and a budget of the others, each record weighted
    /// (<c>kubebpf.sample.weight</c>): the policy of the R.E.D. plugin's call log, with the same keys and defaults.
    /// </summary>
    public CallLogSamplingOptions Sampling { get; set; } = new();

    /// <summary>Log records held for export; when full, new records are dropped and counted (<c>log_records_dropped</c>).</summary>
    public int MaxQueueSize { get; set; } = 8192;

    /// <summary>Log records per export request.</summary>
    public int MaxExportBatchSize { get; set; } = 512;

    /// <summary>The longest wait before queued records are exported.</summary>
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(1);
}
