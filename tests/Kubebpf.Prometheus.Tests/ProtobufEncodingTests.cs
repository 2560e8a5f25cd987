using Kubebpf.Prometheus.Exposition;
using Kubebpf.Prometheus.Metrics;
using Kubebpf.Prometheus.RemoteWrite;
using Kubebpf.Testing;
using Microsoft.Extensions.Time.Testing;
using Client = Kubebpf.Prometheus.Tests.Proto.Client;
using Remote = Kubebpf.Prometheus.Tests.Proto.Remote;

namespace Kubebpf.Prometheus.Tests;

/// <summary>
/// The protobuf exposition and the remote-write encoder, decoded with code generated from the Prometheus messages
/// (Protos/): names, labels, classic buckets, native spans and deltas, and the zero sample of a new series.
/// </summary>
public sealed class ProtobufEncodingTests
{
    private static readonly long[] Durations = [0, 90_000, 1_000_000, 1_000_000, 1_200_000, 40_000_000, 300_000_000, 300_000_000];

    [Fact]
    public void The_protobuf_exposition_carries_counters_gauges_and_histograms_with_classic_and_native_buckets()
    {
        var (exchanges, _) = Counted();
        var gauge = new FamilySample(new MetricFamily("kubebpf_agent_series", "Label sets.", MetricKind.Gauge), [new SeriesSample([new("component", "Prometheus")], 7)]);
        var families = Collect(exchanges).Append(gauge).ToList();
        var output = new ProtoWriter();
        ProtobufExposition.Write(output, families);

        var decoded = new List<Client.MetricFamily>();
        using var stream = new MemoryStream(output.Written.ToArray());
        while (stream.Position < stream.Length)
        {
            decoded.Add(Client.MetricFamily.Parser.ParseDelimitedFrom(stream));
        }

        Assert.Equal(["kubebpf_http_requests_total", "kubebpf_http_request_duration_seconds", "kubebpf_agent_series"], decoded.Select(f => f.Name));
        var requests = Assert.Single(decoded[0].Metric);
        Assert.Equal(Client.MetricType.Counter, decoded[0].Type);
        Assert.Equal(Durations.Length, requests.Counter.Value);
        Assert.Equal(("route", "/a"), requests.Label.Select(l => (l.Name, l.Value)).Single(l => l.Name == "route"));
        Assert.Equal(7, Assert.Single(decoded[2].Metric).Gauge.Value);

        var histogram = Assert.Single(decoded[1].Metric).Histogram;
        Assert.Equal(Client.MetricType.Histogram, decoded[1].Type);
        var sample = Assert.Single(families[1].Series);
        Assert.Equal((ulong)Durations.Length, histogram.SampleCount);
        Assert.Equal(Durations.Sum() / 1e9, histogram.SampleSum, 12);
        Assert.Equal(LatencyBuckets.UpperBounds, histogram.Bucket.Select(b => b.UpperBound));
        Assert.Equal(sample.CumulativeBuckets![..^1].Select(c => (ulong)c), histogram.Bucket.Select(b => b.CumulativeCount));
        Assert.Equal(NativeHistogram.Schema, histogram.Schema);
        Assert.True(histogram.ZeroThreshold > 0, "a zero threshold above 0 marks the histogram as native for Prometheus");
        Assert.Equal(1UL, histogram.ZeroCount);
        var native = NativeHistogramTests.Decode(histogram.PositiveSpan.Select(s => new BucketSpan(s.Offset, (int)s.Length)), histogram.PositiveDelta);
        Assert.Equal(ExpectedNative(), native.Where(b => b.Value != 0).ToDictionary());
    }

    [Fact]
    public void Remote_write_sends_native_histograms_when_asked_and_a_zero_sample_before_a_new_series_first_value()
    {
        var (exchanges, time) = Counted();
        var createdMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        time.Advance(TimeSpan.FromSeconds(3));
        var takeMs = time.GetUtcNow().ToUnixTimeMilliseconds();

        var first = Decode(WriteRequestEncoder.Encode(Collect(exchanges), new WriteSettings(takeMs, [new("job", "kubebpf")], NativeHistograms: true, PreviousTake: long.MinValue)));
        var native = Assert.Single(first.Timeseries, s => Name(s) == "kubebpf_http_request_duration_seconds");
        Assert.Empty(native.Samples);
        Assert.Equal([createdMs - 1, takeMs], native.Histograms.Select(h => h.Timestamp));
        var (zero, full) = (native.Histograms[0], native.Histograms[1]);
        Assert.Equal((0UL, 0.0, 0UL), (zero.CountInt, zero.Sum, zero.ZeroCountInt));
        Assert.Empty(zero.PositiveSpans);
        Assert.Equal((ulong)Durations.Length, full.CountInt);
        Assert.Equal((NativeHistogram.Schema, 1UL), (full.Schema, full.ZeroCountInt));
        Assert.True(full.ZeroThreshold > 0);
        Assert.Equal(ExpectedNative(), NativeHistogramTests.Decode(full.PositiveSpans.Select(s => new BucketSpan(s.Offset, (int)s.Length)), full.PositiveDeltas)
            .Where(b => b.Value != 0).ToDictionary());

        // Every counter and classic-histogram series starts at zero just before its creation, then has its value.
        var classic = first.Timeseries.Where(s => s.Histograms.Count == 0).ToList();
        Assert.Equal(1 + LatencyBuckets.Count + 2, classic.Count);
        Assert.All(classic, s => Assert.Equal([(0.0, createdMs - 1), (s.Samples[1].Value, takeMs)], s.Samples.Select(p => (p.Value, p.Timestamp))));
        Assert.Equal(Durations.Length, classic.Single(s => Name(s) == "kubebpf_http_requests_total").Samples[1].Value);
        Assert.All(first.Timeseries, s => Assert.Equal(s.Labels.Select(l => l.Name).Order(StringComparer.Ordinal), s.Labels.Select(l => l.Name)));

        // Taken again after it was sent: no longer new; without the option, no native histogram.
        var next = Decode(WriteRequestEncoder.Encode(Collect(exchanges), new WriteSettings(takeMs + 1000, [], PreviousTake: time.GetTimestamp())));
        Assert.DoesNotContain(next.Timeseries, s => s.Histograms.Count > 0 || Name(s) == "kubebpf_http_request_duration_seconds");
        Assert.All(next.Timeseries, s => Assert.Equal(takeMs + 1000, Assert.Single(s.Samples).Timestamp));
    }

    private static (ExchangeMetrics Exchanges, FakeTimeProvider Time) Counted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        time.Advance(TimeSpan.FromSeconds(1));
        var exchanges = Samples.ExchangeMetrics(Samples.Options(), new TestAgentMetrics(), time);
        exchanges.OnEvents([.. Durations.Select(d => Samples.Http("/a", durationNs: d))]);
        return (exchanges, time);
    }

    private static List<FamilySample> Collect(IMetricSource source)
    {
        var families = new List<FamilySample>();
        source.Collect(families);
        return families;
    }

    private static Dictionary<int, long> ExpectedNative() =>
        Durations.Where(d => d > 0).GroupBy(d => NativeHistogram.IndexOf(d / 1e9)).ToDictionary(g => g.Key, g => (long)g.Count());

    private static Remote.WriteRequest Decode((byte[] Body, int Samples) encoded) => Remote.WriteRequest.Parser.ParseFrom(encoded.Body);

    private static string Name(Remote.TimeSeries series) => series.Labels.Single(l => l.Name == "__name__").Value;
}
