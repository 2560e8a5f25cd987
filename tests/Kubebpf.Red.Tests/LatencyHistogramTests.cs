using Kubebpf.Red.Aggregation;

namespace Kubebpf.Red.Tests;

public class LatencyHistogramTests
{
    private static readonly double[] Quantiles = [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0];

    [Fact]
    public void Values_below_128_ns_are_exact()
    {
        var histogram = new LatencyHistogram();
        for (var value = 0; value < 128; value++)
        {
            histogram.Record(value);
        }

        Assert.Equal(0, histogram.ValueAtQuantile(0));
        Assert.Equal(63, histogram.ValueAtQuantile(0.5));
        Assert.Equal(126, histogram.ValueAtQuantile(0.99));
        Assert.Equal(127, histogram.ValueAtQuantile(1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Quantiles_are_within_the_documented_relative_error_of_the_exact_nearest_rank(int seed)
    {
        var random = new Random(seed);
        var histogram = new LatencyHistogram();
        var samples = new long[100_000];
        for (var i = 0; i < samples.Length; i++)
        {
            // Log-uniform from 100 ns to 100 s: every bucket range gets exercised.
            samples[i] = (long)Math.Pow(10, 2 + (9 * random.NextDouble()));
            histogram.Record(samples[i]);
        }

        Array.Sort(samples);
        foreach (var quantile in Quantiles)
        {
            var exact = ExactNearestRank(samples, quantile);
            var estimate = histogram.ValueAtQuantile(quantile);
            Assert.True(
                Math.Abs(estimate - exact) <= exact * LatencyHistogram.MaxRelativeError,
                $"q={quantile}: estimate {estimate}, exact {exact}");
        }
    }

    [Fact]
    public void Count_sum_min_max_and_mean_are_exact()
    {
        var histogram = new LatencyHistogram();
        long[] samples = [1_234_567, 7, 987_654_321, 42_000];
        foreach (var sample in samples)
        {
            histogram.Record(sample);
        }

        Assert.Equal(4, histogram.Count);
        Assert.Equal(samples.Sum(), histogram.SumNs);
        Assert.Equal(7, histogram.MinNs);
        Assert.Equal(987_654_321, histogram.MaxNs);
        Assert.Equal(samples.Sum() / 4.0, histogram.MeanNs);
        Assert.Equal(987_654_321, histogram.ValueAtQuantile(1));
    }

    [Fact]
    public void Merging_equals_recording_everything_into_one_histogram()
    {
        var random = new Random(7);
        var left = new LatencyHistogram();
        var right = new LatencyHistogram();
        var all = new LatencyHistogram();
        for (var i = 0; i < 20_000; i++)
        {
            var value = random.NextInt64(50, 5_000_000_000);
            (i % 3 == 0 ? left : right).Record(value);
            all.Record(value);
        }

        left.Merge(right);

        Assert.Equal(all.Count, left.Count);
        Assert.Equal(all.SumNs, left.SumNs);
        Assert.Equal(all.MinNs, left.MinNs);
        Assert.Equal(all.MaxNs, left.MaxNs);
        foreach (var quantile in Quantiles)
        {
            Assert.Equal(all.ValueAtQuantile(quantile), left.ValueAtQuantile(quantile));
        }
    }

    [Fact]
    public void Merging_into_an_empty_histogram_copies_min()
    {
        var empty = new LatencyHistogram();
        var other = new LatencyHistogram();
        other.Record(5_000);

        empty.Merge(other);

        Assert.Equal(5_000, empty.MinNs);
        Assert.Equal(5_000, empty.ValueAtQuantile(0.5));
    }

    [Fact]
    public void Reset_empties_it_for_the_next_window()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(10_000_000);
        histogram.Reset();
        histogram.Record(200);

        Assert.Equal(1, histogram.Count);
        Assert.Equal(200, histogram.SumNs);
        Assert.Equal(200, histogram.MinNs);
        Assert.Equal(200, histogram.MaxNs);
        Assert.Equal(200, histogram.ValueAtQuantile(1));
    }

    [Fact]
    public void Durations_beyond_the_trackable_range_keep_an_exact_max_and_negative_ones_count_as_zero()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(LatencyHistogram.MaxTrackableNs * 4);
        histogram.Record(-5);

        Assert.Equal(LatencyHistogram.MaxTrackableNs * 4, histogram.MaxNs);
        Assert.Equal(LatencyHistogram.MaxTrackableNs * 4, histogram.ValueAtQuantile(1));
        Assert.Equal(0, histogram.MinNs);
        Assert.Equal(0, histogram.ValueAtQuantile(0.5));
    }

    [Fact]
    public void An_empty_histogram_reports_zero()
    {
        var histogram = new LatencyHistogram();

        Assert.Equal(0, histogram.ValueAtQuantile(0.99));
        Assert.Equal(0, histogram.MeanNs);
    }

    private static long ExactNearestRank(long[] sorted, double quantile)
    {
        var rank = Math.Max(1, (long)Math.Ceiling(quantile * sorted.Length));
        return sorted[rank - 1];
    }
}
