using Kubebpf.Prometheus.Metrics;

namespace Kubebpf.Prometheus.Exposition;

/// <summary>
/// Writes families as Prometheus' protobuf exposition format: <c>io.prometheus.client.MetricFamily</c> messages, each
/// behind its varint length (<c>encoding=delimited</c>). Field numbers from <c>metrics.proto</c> of
/// prometheus/client_model: <c>MetricFamily</c> name 1, help 2, type 3, metric 4; <c>Metric</c> label 1, gauge 2,
/// counter 3, histogram 7; <c>Histogram</c> sample_count 1, sample_sum 2, bucket 3, schema 5, zero_threshold 6,
/// zero_count 7, positive_span 12, positive_delta 13; <c>Bucket</c> cumulative_count 1, upper_bound 2. A histogram
/// carries its classic buckets (the +Inf one left out, as the format allows) and, when it has one, its native
/// histogram: Prometheus with native histograms on reads the native one, and a reader without them the classic ones.
/// </summary>
internal static class ProtobufExposition
{
    private const int CounterType = 0;
    private const int GaugeType = 1;
    private const int HistogramType = 4;

    /// <summary>Appends <paramref name="families"/> to <paramref name="output"/>.</summary>
    public static void Write(ProtoWriter output, IEnumerable<FamilySample> families)
    {
        foreach (var (family, series) in families)
        {
            output.BeginMessage();
            output.String(1, family.Kind == MetricKind.Counter ? family.Name + "_total" : family.Name);
            output.String(2, family.Help);
            output.Varint(3, family.Kind switch { MetricKind.Counter => CounterType, MetricKind.Gauge => GaugeType, _ => HistogramType });
            foreach (var sample in series)
            {
                output.BeginMessage();
                foreach (var (name, value) in sample.Labels)
                {
                    output.BeginMessage();
                    output.String(1, name);
                    output.String(2, value);
                    output.EndMessage(1);
                }

                switch (family.Kind)
                {
                    case MetricKind.Counter:
                        output.BeginMessage();
                        output.Double(1, sample.Value);
                        output.EndMessage(3);
                        break;
                    case MetricKind.Gauge:
                        output.BeginMessage();
                        output.Double(1, sample.Value);
                        output.EndMessage(2);
                        break;
                    default:
                        WriteHistogram(output, family, sample);
                        break;
                }

                output.EndMessage(4);
            }

            output.EndDelimited();
        }
    }

    private static void WriteHistogram(ProtoWriter output, MetricFamily family, SeriesSample sample)
    {
        output.BeginMessage();
        output.Varint(1, (ulong)sample.Value);
        output.Double(2, sample.Sum);
        var buckets = sample.CumulativeBuckets ?? [];
        var bounds = family.UpperBounds;
        for (var i = 0; i < Math.Min(buckets.Length, bounds.Length); i++)
        {
            output.BeginMessage();
            output.Varint(1, (ulong)buckets[i]);
            output.Double(2, bounds[i]);
            output.EndMessage(3);
        }

        if (sample.Native is { } native)
        {
            output.SignedVarint(5, NativeHistogram.Schema);
            output.Double(6, NativeHistogram.ZeroThreshold);
            output.Varint(7, (ulong)native.ZeroCount);
            foreach (var span in native.Spans)
            {
                output.BeginMessage();
                output.SignedVarint(1, span.Offset);
                output.Varint(2, (uint)span.Length);
                output.EndMessage(12);
            }

            output.PackedSignedVarints(13, native.Deltas);
        }

        output.EndMessage(7);
    }
}
