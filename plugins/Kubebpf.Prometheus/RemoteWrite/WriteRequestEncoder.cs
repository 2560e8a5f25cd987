using Kubebpf.Prometheus.Exposition;
using Kubebpf.Prometheus.Metrics;

namespace Kubebpf.Prometheus.RemoteWrite;

/// <summary>What one write request carries besides the samples' values.</summary>
/// <param name="TimestampMs">The samples' time, milliseconds since the Unix epoch.</param>
/// <param name="ExternalLabels">Labels added to every series that does not have them already (<c>job</c>, <c>instance</c>).</param>
/// <param name="NativeHistograms">Whether histograms are also sent as native histograms (beside their classic series).</param>
/// <param name="PreviousTake">
/// When the previous request was taken (a <see cref="TimeProvider"/> timestamp): counters and histograms created after
/// it get a zero sample just before their creation, so that <c>increase()</c> and <c>rate()</c> see their first counts.
/// <see cref="long.MaxValue"/>: no series is new.
/// </param>
internal readonly record struct WriteSettings(
    long TimestampMs, IReadOnlyList<KeyValuePair<string, string>> ExternalLabels, bool NativeHistograms = false, long PreviousTake = long.MaxValue);

/// <summary>
/// Encodes families as a remote-write 1.0 <c>prometheus.WriteRequest</c> protobuf, written from the field numbers of
/// Prometheus' <c>prompb</c> (no generated code): <c>WriteRequest.timeseries = 1</c>; <c>TimeSeries.labels = 1</c>,
/// <c>samples = 2</c>, <c>histograms = 4</c>; <c>Label.name = 1</c>, <c>value = 2</c>; <c>Sample.value = 1</c> (double),
/// <c>timestamp = 2</c> (int64, ms); <c>Histogram.count_int = 1</c>, <c>sum = 3</c>, <c>schema = 4</c>,
/// <c>zero_threshold = 5</c>, <c>zero_count_int = 6</c>, <c>positive_spans = 11</c>, <c>positive_deltas = 12</c>,
/// <c>timestamp = 15</c>; <c>BucketSpan.offset = 1</c>, <c>length = 2</c>. Labels are sorted by name with
/// <c>__name__</c> among them, as receivers require. Histograms become their classic series (<c>_bucket{le}</c>,
/// <c>_sum</c>, <c>_count</c>) and, when asked, one native-histogram series under the family's name; counters
/// <c>_total</c>.
/// </summary>
internal static class WriteRequestEncoder
{
    private const string NameLabel = "__name__";

    /// <summary>The protobuf bytes (not compressed) and the number of samples (and native histograms) in them.</summary>
    public static (byte[] Body, int Samples) Encode(IEnumerable<FamilySample> families, WriteSettings settings)
    {
        var output = new ProtoWriter();
        var series = new SeriesWriter(output, settings);
        foreach (var (family, samples) in families)
        {
            foreach (var sample in samples)
            {
                var zeroAtMs = family.Kind != MetricKind.Gauge && sample.Origin.IsAfter(settings.PreviousTake) && sample.Origin.UnixMs <= settings.TimestampMs
                    ? sample.Origin.UnixMs - 1
                    : (long?)null;
                switch (family.Kind)
                {
                    case MetricKind.Counter:
                        series.Write(family.Name + "_total", sample.Labels, null, sample.Value, zeroAtMs);
                        break;
                    case MetricKind.Gauge:
                        series.Write(family.Name, sample.Labels, null, sample.Value, null);
                        break;
                    default:
                        var buckets = sample.CumulativeBuckets ?? [];
                        for (var i = 0; i < buckets.Length; i++)
                        {
                            var le = i < family.UpperBounds.Length ? TextExposition.FormatNumber(family.UpperBounds[i]) : "+Inf";
                            series.Write(family.Name + "_bucket", sample.Labels, le, buckets[i], zeroAtMs);
                        }

                        series.Write(family.Name + "_sum", sample.Labels, null, sample.Sum, zeroAtMs);
                        series.Write(family.Name + "_count", sample.Labels, null, sample.Value, zeroAtMs);
                        if (settings.NativeHistograms && sample.Native is not null)
                        {
                            series.WriteNative(family.Name, sample, zeroAtMs);
                        }

                        break;
                }
            }
        }

        return (output.Written.ToArray(), series.Samples);
    }

    /// <summary>Writes one <c>TimeSeries</c> at a time into the request; counts the samples.</summary>
    private sealed class SeriesWriter(ProtoWriter output, WriteSettings settings)
    {
        private readonly List<KeyValuePair<string, string>> _labels = new(16);

        public int Samples { get; private set; }

        public void Write(string name, KeyValuePair<string, string>[] own, string? le, double value, long? zeroAtMs)
        {
            BeginSeries(name, own, le);
            if (zeroAtMs is { } zeroAt)
            {
                Sample(0, zeroAt);
            }

            Sample(value, settings.TimestampMs);
            output.EndMessage(1);
        }

        public void WriteNative(string name, SeriesSample sample, long? zeroAtMs)
        {
            BeginSeries(name, sample.Labels, null);
            if (zeroAtMs is { } zeroAt)
            {
                Histogram(0, 0, NativeSnapshot.Empty, zeroAt);
            }

            Histogram((long)sample.Value, sample.Sum, sample.Native!, settings.TimestampMs);
            output.EndMessage(1);
        }

        private void BeginSeries(string name, KeyValuePair<string, string>[] own, string? le)
        {
            _labels.Clear();
            _labels.Add(new(NameLabel, name));
            _labels.AddRange(own);
            if (le is not null)
            {
                _labels.Add(new("le", le));
            }

            foreach (var external in settings.ExternalLabels)
            {
                if (!own.Any(l => l.Key == external.Key))
                {
                    _labels.Add(external);
                }
            }

            _labels.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            output.BeginMessage();
            foreach (var (labelName, labelValue) in _labels)
            {
                output.BeginMessage();
                output.String(1, labelName);
                output.String(2, labelValue);
                output.EndMessage(1);
            }
        }

        private void Sample(double value, long timestampMs)
        {
            output.BeginMessage();
            output.Double(1, value);
            output.Varint(2, (ulong)timestampMs);
            output.EndMessage(2);
            Samples++;
        }

        private void Histogram(long count, double sum, NativeSnapshot native, long timestampMs)
        {
            output.BeginMessage();
            output.Varint(1, (ulong)count);
            output.Double(3, sum);
            output.SignedVarint(4, NativeHistogram.Schema);
            output.Double(5, NativeHistogram.ZeroThreshold);
            output.Varint(6, (ulong)native.ZeroCount);
            foreach (var span in native.Spans)
            {
                output.BeginMessage();
                output.SignedVarint(1, span.Offset);
                output.Varint(2, (uint)span.Length);
                output.EndMessage(11);
            }

            output.PackedSignedVarints(12, native.Deltas);
            output.Varint(15, (ulong)timestampMs);
            output.EndMessage(4);
            Samples++;
        }
    }
}
