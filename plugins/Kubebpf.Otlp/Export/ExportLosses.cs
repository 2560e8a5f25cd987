using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Otlp.Export;

/// <summary>Every place an export can lose data, as the agent's self-metrics (<c>kubebpf_agent</c>, component = the instance).</summary>
internal sealed class ExportLosses(IAgentMetrics metrics)
{
    public Counter AttemptsFailed { get; } = metrics.Counter(
        "export_attempts_failed", "An export attempt the receiver refused (4xx, 5xx, gRPC error) or did not answer; each retry counts.");

    public Counter Retries { get; } = metrics.Counter(
        "export_retries", "An export attempt retried after a transient failure (429, 502-504, gRPC UNAVAILABLE, no connection).");

    public Counter MetricExportsFailed { get; } = metrics.Counter(
        "metric_exports_failed", "A metrics export given up (permanent error, or retries ran out of ExportTimeout).");

    public Counter MetricPointsFailed { get; } = metrics.Counter(
        "metric_points_failed", "Data points in metrics exports given up; cumulative totals still reach the receiver with the next export.");

    public Counter MetricPointsRejected { get; } = metrics.Counter(
        "metric_points_rejected", "Data points the receiver rejected in a partial success.");

    public Counter LogExportsFailed { get; } = metrics.Counter(
        "log_exports_failed", "A call-log export given up (permanent error, or retries ran out of ExportTimeout).");

    public Counter LogRecordsFailed { get; } = metrics.Counter(
        "log_records_failed", "Call-log records lost with a log export given up.");

    public Counter LogRecordsRejected { get; } = metrics.Counter(
        "log_records_rejected", "Call-log records the receiver rejected in a partial success.");

    public Counter LogRecordsDropped { get; } = metrics.Counter(
        "log_records_dropped", "Call-log records dropped because the export queue (CallLog:MaxQueueSize) was full.");

    /// <summary>Counts an export given up, with the items its request carried.</summary>
    public void Failed(OtlpSignal signal, long items)
    {
        (signal == OtlpSignal.Logs ? LogExportsFailed : MetricExportsFailed).Increment();
        (signal == OtlpSignal.Logs ? LogRecordsFailed : MetricPointsFailed).Add(items);
    }

    /// <summary>Counts items a receiver rejected in a partial success.</summary>
    public void Rejected(OtlpSignal signal, long items)
    {
        if (items > 0)
        {
            (signal == OtlpSignal.Logs ? LogRecordsRejected : MetricPointsRejected).Add(items);
        }
    }
}
