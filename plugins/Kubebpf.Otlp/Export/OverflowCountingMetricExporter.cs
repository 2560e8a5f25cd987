using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace Kubebpf.Otlp.Export;

/// <summary>
/// The OTLP metric exporter, reading each batch on its way out for the series the SDK folded into its overflow
/// attribute set (<c>otel.metric.overflow</c>) because a metric reached its cardinality limit: the requests counted
/// there are what the limit cost, and users see it as <c>requests_in_overflow</c>.
/// </summary>
internal sealed class OverflowCountingMetricExporter(OtlpExporterOptions options, bool cumulative) : OtlpMetricExporter(options)
{
    private const string OverflowAttribute = "otel.metric.overflow";
    private long _requestsInOverflow;

    /// <summary>Requests recorded in overflow series since start (cumulative: the last export's totals; delta: summed).</summary>
    public long RequestsInOverflow => Interlocked.Read(ref _requestsInOverflow);

    public override ExportResult Export(in Batch<Metric> metrics)
    {
        long overflow = 0;
        foreach (var metric in metrics)
        {
            if (metric.MetricType != MetricType.LongSum)
            {
                continue; // the request counters; histograms count the same requests again
            }

            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                foreach (var tag in point.Tags)
                {
                    if (tag.Key == OverflowAttribute)
                    {
                        overflow += point.GetSumLong();
                    }
                }
            }
        }

        if (cumulative)
        {
            Interlocked.Exchange(ref _requestsInOverflow, overflow);
        }
        else
        {
            Interlocked.Add(ref _requestsInOverflow, overflow);
        }

        return base.Export(metrics);
    }
}
