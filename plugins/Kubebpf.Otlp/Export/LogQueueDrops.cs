using System.Diagnostics.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Otlp.Export;

/// <summary>
/// Counts call-log records the batch processor dropped because its queue was full. The SDK does not expose that count,
/// but reports it through its own self-observability instrument (<c>otel.sdk.processor.log.processed</c> with
/// <c>error.type</c>), which this listener reads. The instrument is process-wide: one OTLP instance per agent is assumed.
/// </summary>
internal sealed class LogQueueDrops : IDisposable
{
    private const string SdkMeter = "otel.sdk.experimental";
    private const string ProcessedInstrument = "otel.sdk.processor.log.processed";

    private readonly MeterListener _listener = new();

    public LogQueueDrops(Counter dropped)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SdkMeter && instrument.Name == ProcessedInstrument)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "error.type")
                {
                    dropped.Add(value);
                }
            }
        });
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();
}
