using Kubebpf.Prometheus.Metrics;

namespace Kubebpf.Prometheus.Tests;

/// <summary>The exponential bucketing (schema 3) and its spans-and-deltas form.</summary>
public sealed class NativeHistogramTests
{
    /// <summary>Durations from 1 ns to about 3 hours, log-uniform, plus every bucket bound in that range and its neighbours.</summary>
    private static IEnumerable<long> Durations(int seed, int count)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            yield return (long)Math.Pow(10, random.NextDouble() * 13);
        }

        for (var index = NativeHistogram.IndexOf(1e-9); index <= NativeHistogram.IndexOf(1e4); index++)
        {
            var boundNs = (long)Math.Round(NativeHistogram.UpperBound(index) * 1e9);
            yield return boundNs - 1;
            yield return boundNs;
            yield return boundNs + 1;
        }
    }

    [Fact]
    public void Every_duration_lands_in_exactly_one_bucket_whose_bounds_contain_it()
    {
        foreach (var ns in Durations(seed: 1, count: 100_000).Where(ns => ns > 0))
        {
            var seconds = ns / 1e9;
            var index = NativeHistogram.IndexOf(seconds);
            // Bounds rise strictly, so the bucket that contains the value is the only one.
            Assert.True(NativeHistogram.UpperBound(index - 1) < seconds && seconds <= NativeHistogram.UpperBound(index), $"{ns} ns in bucket {index}");
        }
    }

    [Fact]
    public void Bounds_are_powers_of_two_to_the_eighth_and_rise_strictly()
    {
        for (var index = -300; index <= 300; index++)
        {
            var expected = Math.Pow(2, index / 8.0);
            Assert.Equal(expected, NativeHistogram.UpperBound(index), expected * 1e-14);
            Assert.True(NativeHistogram.UpperBound(index) > NativeHistogram.UpperBound(index - 1));
        }

        Assert.Equal(0, NativeHistogram.IndexOf(1.0)); // 2^0 is the upper bound of bucket 0, inclusive
        Assert.Equal(1, NativeHistogram.IndexOf(Math.BitIncrement(1.0)));
        Assert.Equal(8, NativeHistogram.IndexOf(2.0));
        Assert.Equal(-8, NativeHistogram.IndexOf(0.5));
    }

    [Theory]
    [InlineData(2, 50)]
    [InlineData(3, 5_000)]
    [InlineData(4, 100_000)]
    public void Spans_and_deltas_give_back_every_bucket_count_and_the_counts_sum_to_the_observations(int seed, int count)
    {
        var histogram = new NativeHistogram();
        var expected = new SortedDictionary<int, long>();
        long zeros = 0, observations = 0;
        foreach (var ns in Durations(seed, count).Append(0).Append(-5))
        {
            histogram.Observe(ns);
            observations++;
            if (ns <= 0)
            {
                zeros++;
                continue;
            }

            var index = NativeHistogram.IndexOf(ns / 1e9);
            expected[index] = expected.GetValueOrDefault(index) + 1;
        }

        var snapshot = histogram.Snapshot();
        var decoded = Decode(snapshot.Spans, snapshot.Deltas);
        Assert.Equal(expected, decoded.Where(b => b.Value != 0).ToDictionary());
        Assert.Equal(zeros, snapshot.ZeroCount);
        Assert.Equal(observations, snapshot.ZeroCount + decoded.Values.Sum());
    }

    [Fact]
    public void A_gap_of_up_to_two_empty_buckets_stays_inside_a_span_and_a_longer_one_starts_a_new_span()
    {
        var histogram = new NativeHistogram();
        foreach (var index in new[] { 0, 3, 3, 10 })
        {
            histogram.Observe((long)(NativeHistogram.UpperBound(index) * 1e9));
        }

        var snapshot = histogram.Snapshot();
        Assert.Equal([new BucketSpan(0, 4), new BucketSpan(6, 1)], snapshot.Spans);
        Assert.Equal([1, -1, 0, 2, -1], snapshot.Deltas);
        Assert.Empty(new NativeHistogram().Snapshot().Spans);
    }

    /// <summary>Absolute bucket index to count, from spans and deltas as a receiver reads them.</summary>
    internal static SortedDictionary<int, long> Decode(IEnumerable<BucketSpan> spans, IReadOnlyList<long> deltas)
    {
        var counts = new SortedDictionary<int, long>();
        var index = 0;
        var next = 0;
        long count = 0;
        foreach (var span in spans)
        {
            index += span.Offset;
            for (var i = 0; i < span.Length; i++)
            {
                count += deltas[next++];
                counts[index++] = count;
            }
        }

        Assert.Equal(deltas.Count, next);
        return counts;
    }
}
