using System.Buffers;
using System.Text;
using Kubebpf.Prometheus.Exposition;
using Kubebpf.Prometheus.Metrics;

namespace Kubebpf.Prometheus.RemoteWrite;

/// <summary>
/// Encodes families as a remote-write 1.0 <c>prometheus.WriteRequest</c> protobuf, written by hand from the spec's field
/// numbers (no generated code): <c>WriteRequest.timeseries = 1</c>; <c>TimeSeries.labels = 1</c>, <c>samples = 2</c>;
/// <c>Label.name = 1</c>, <c>value = 2</c>; <c>Sample.value = 1</c> (double), <c>timestamp = 2</c> (int64, ms). Labels are
/// sorted by name with <c>__name__</c> among them, as receivers require. Histograms become their classic series
/// (<c>_bucket{le}</c>, <c>_sum</c>, <c>_count</c>), counters <c>_total</c>.
/// </summary>
internal static class WriteRequestEncoder
{
    private const string NameLabel = "__name__";
    private const byte WriteRequestTimeseries = (1 << 3) | 2;
    private const byte TimeSeriesLabels = (1 << 3) | 2;
    private const byte TimeSeriesSamples = (2 << 3) | 2;
    private const byte LabelName = (1 << 3) | 2;
    private const byte LabelValue = (2 << 3) | 2;
    private const byte SampleValue = (1 << 3) | 1;
    private const byte SampleTimestamp = 2 << 3;

    /// <summary>The protobuf bytes (not compressed) and the number of samples in them.</summary>
    /// <param name="families">What to send.</param>
    /// <param name="timestampMs">The samples' time, milliseconds since the Unix epoch.</param>
    /// <param name="externalLabels">Labels added to every series that does not have them already (<c>job</c>, <c>instance</c>).</param>
    public static (byte[] Body, int Samples) Encode(IEnumerable<FamilySample> families, long timestampMs, IReadOnlyList<KeyValuePair<string, string>> externalLabels)
    {
        var output = new ArrayBufferWriter<byte>(4096);
        var labels = new List<KeyValuePair<string, string>>(16);
        var samples = 0;
        foreach (var (family, series) in families)
        {
            foreach (var sample in series)
            {
                switch (family.Kind)
                {
                    case MetricKind.Counter:
                        WriteSeries(output, labels, family.Name + "_total", sample.Labels, null, externalLabels, sample.Value, timestampMs);
                        samples++;
                        break;
                    case MetricKind.Gauge:
                        WriteSeries(output, labels, family.Name, sample.Labels, null, externalLabels, sample.Value, timestampMs);
                        samples++;
                        break;
                    default:
                        var buckets = sample.CumulativeBuckets ?? [];
                        for (var i = 0; i < buckets.Length; i++)
                        {
                            var le = i < family.UpperBounds.Length ? TextExposition.FormatNumber(family.UpperBounds[i]) : "+Inf";
                            WriteSeries(output, labels, family.Name + "_bucket", sample.Labels, le, externalLabels, buckets[i], timestampMs);
                        }

                        WriteSeries(output, labels, family.Name + "_sum", sample.Labels, null, externalLabels, sample.Sum, timestampMs);
                        WriteSeries(output, labels, family.Name + "_count", sample.Labels, null, externalLabels, sample.Value, timestampMs);
                        samples += buckets.Length + 2;
                        break;
                }
            }
        }

        return (output.WrittenSpan.ToArray(), samples);
    }

    private static void WriteSeries(
        ArrayBufferWriter<byte> output,
        List<KeyValuePair<string, string>> labels,
        string name,
        KeyValuePair<string, string>[] own,
        string? le,
        IReadOnlyList<KeyValuePair<string, string>> externalLabels,
        double value,
        long timestampMs)
    {
        labels.Clear();
        labels.Add(new(NameLabel, name));
        labels.AddRange(own);
        if (le is not null)
        {
            labels.Add(new("le", le));
        }

        foreach (var external in externalLabels)
        {
            if (!own.Any(l => l.Key == external.Key))
            {
                labels.Add(external);
            }
        }

        labels.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));

        var sampleSize = 1 + sizeof(double) + 1 + VarintSize((ulong)timestampMs);
        var seriesSize = 1 + VarintSize((ulong)sampleSize) + sampleSize;
        foreach (var (labelName, labelValue) in labels)
        {
            var labelSize = LabelSize(labelName, labelValue);
            seriesSize += 1 + VarintSize((ulong)labelSize) + labelSize;
        }

        WriteTag(output, WriteRequestTimeseries, seriesSize);
        foreach (var (labelName, labelValue) in labels)
        {
            WriteTag(output, TimeSeriesLabels, LabelSize(labelName, labelValue));
            WriteString(output, LabelName, labelName);
            WriteString(output, LabelValue, labelValue);
        }

        WriteTag(output, TimeSeriesSamples, sampleSize);
        var span = output.GetSpan(1 + sizeof(double));
        span[0] = SampleValue;
        BitConverter.TryWriteBytes(span[1..], value); // protobuf doubles are little-endian, as on every platform .NET runs
        output.Advance(1 + sizeof(double));
        WriteByte(output, SampleTimestamp);
        WriteVarint(output, (ulong)timestampMs);
    }

    private static int LabelSize(string name, string value)
    {
        var nameBytes = Encoding.UTF8.GetByteCount(name);
        var valueBytes = Encoding.UTF8.GetByteCount(value);
        return 1 + VarintSize((ulong)nameBytes) + nameBytes + 1 + VarintSize((ulong)valueBytes) + valueBytes;
    }

    private static void WriteTag(ArrayBufferWriter<byte> output, byte tag, int length)
    {
        WriteByte(output, tag);
        WriteVarint(output, (ulong)length);
    }

    private static void WriteString(ArrayBufferWriter<byte> output, byte tag, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        WriteTag(output, tag, length);
        var span = output.GetSpan(length);
        Encoding.UTF8.GetBytes(text, span);
        output.Advance(length);
    }

    private static void WriteByte(ArrayBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        output.Advance(i);
    }

    private static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }
}
