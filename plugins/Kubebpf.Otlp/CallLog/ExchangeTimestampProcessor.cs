using OpenTelemetry;
using OpenTelemetry.Logs;

namespace Kubebpf.Otlp.CallLog;

/// <summary>
/// Gives a call-log record the exchange's start as its time (the logger stamps the moment it was called, which is
/// later by the capture's batching). Runs before the batch processor, on the logging thread, while the record's
/// attributes are still the <see cref="ExchangeRecord"/> the writer passed.
/// </summary>
internal sealed class ExchangeTimestampProcessor : BaseProcessor<LogRecord>
{
    public override void OnEnd(LogRecord data)
    {
        if (data.Attributes is ExchangeRecord record)
        {
            data.Timestamp = record.Start;
        }
    }
}
