namespace Kubebpf.Prometheus.Metrics;

/// <summary>A run of consecutive native-histogram buckets: its start (relative to the end of the previous span; absolute for the first) and length.</summary>
internal readonly record struct BucketSpan(int Offset, int Length);

/// <summary>
/// A native histogram at collection time, in the form both wire formats carry: the zero bucket's count, and the counts
/// of the positive buckets as spans and deltas (each count minus the previous one, the first against zero).
/// </summary>
internal sealed record NativeSnapshot(long ZeroCount, BucketSpan[] Spans, long[] Deltas)
{
    /// <summary>A histogram without observations (what a new series is exposed as first).</summary>
    public static readonly NativeSnapshot Empty = new(0, [], []);
}

/// <summary>
/// Prometheus' native (sparse, exponential) histogram of durations in seconds, schema <see cref="Schema"/>: bucket
/// <c>i</c> holds (2^((i-1)/8), 2^(i/8)], eight buckets per doubling, each about 9 % wider than the one below, so a
/// quantile estimated from it is off by at most about 4.5 % (client_golang's default resolution, bucket factor 1.1).
/// Only durations of exactly zero fall in the zero bucket (<see cref="ZeroThreshold"/> is the client libraries' 2^-128).
/// Integer nanoseconds from 1 ns to 2^63 ns reach indices -240 to 264, so a histogram's counts (grown by doubling
/// around the buckets seen) stay under 1024 (8 KiB); typical latencies span a few decades, a few dozen buckets. Not
/// thread-safe (the caller locks).
/// </summary>
internal sealed class NativeHistogram
{
    /// <summary>The resolution: 2^<see cref="Schema"/> buckets per doubling.</summary>
    public const int Schema = 3;

    /// <summary>Observations at or below this (in seconds) count in the zero bucket.</summary>
    public static readonly double ZeroThreshold = Math.ScaleB(1.0, -128);

    private const int BucketsPerDoubling = 1 << Schema;

    // Empty buckets inside a span cost one byte each; a new span costs about two. Gaps up to this stay inside a span.
    private const int MaxGapInSpan = 2;

    /// <summary>2^(j/8) for j = 0..8: the bounds of the buckets within one doubling, scaled by its power of two.</summary>
    private static readonly double[] Fractions = [.. Enumerable.Range(0, BucketsPerDoubling + 1).Select(j => Math.Pow(2, (double)j / BucketsPerDoubling))];

    private long[] _counts = [];
    private int _firstIndex;

    /// <summary>Observations of exactly zero.</summary>
    public long ZeroCount { get; private set; }

    /// <summary>The upper bound, in seconds, of bucket <paramref name="index"/> (inclusive; the lower bound is that of <c>index - 1</c>, exclusive).</summary>
    public static double UpperBound(int index)
    {
        var doubling = (int)Math.Floor((double)index / BucketsPerDoubling);
        return Math.ScaleB(Fractions[index - (doubling * BucketsPerDoubling)], doubling);
    }

    /// <summary>The bucket of a positive duration in seconds: the one whose bounds contain it.</summary>
    public static int IndexOf(double seconds)
    {
        // seconds = m * 2^e with m in [1, 2): the bucket is the first of the doubling's bounds at or above m.
        var exponent = Math.ILogB(seconds);
        var mantissa = Math.ScaleB(seconds, -exponent);
        var j = 0;
        while (mantissa > Fractions[j])
        {
            j++;
        }

        return (exponent * BucketsPerDoubling) + j;
    }

    /// <summary>Counts one duration (negative ones as zero).</summary>
    public void Observe(long durationNs)
    {
        if (durationNs <= 0)
        {
            ZeroCount++;
            return;
        }

        var index = IndexOf(durationNs / 1e9);
        if (_counts.Length == 0)
        {
            _counts = new long[BucketsPerDoubling];
            _firstIndex = index;
        }
        else if (index < _firstIndex || index >= _firstIndex + _counts.Length)
        {
            Grow(index);
        }

        _counts[index - _firstIndex]++;
    }

    /// <summary>The counts as spans and deltas; a copy.</summary>
    public NativeSnapshot Snapshot()
    {
        var spans = new List<BucketSpan>();
        var deltas = new List<long>();
        long previous = 0;
        var spanStart = 0;
        var spanLength = 0;
        var lastEnd = 0; // the absolute index after the previous span
        var gap = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            var count = _counts[i];
            if (count == 0)
            {
                gap++;
                continue;
            }

            var index = _firstIndex + i;
            if (spanLength > 0 && gap <= MaxGapInSpan)
            {
                for (var g = 0; g < gap; g++)
                {
                    deltas.Add(-previous); // an empty bucket kept inside the span
                    previous = 0;
                }

                spanLength += gap + 1;
            }
            else
            {
                if (spanLength > 0)
                {
                    spans.Add(new BucketSpan(spanStart - lastEnd, spanLength));
                    lastEnd = spanStart + spanLength;
                }
                else
                {
                    lastEnd = 0;
                }

                spanStart = index;
                spanLength = 1;
            }

            deltas.Add(count - previous);
            previous = count;
            gap = 0;
        }

        if (spanLength > 0)
        {
            spans.Add(new BucketSpan(spanStart - lastEnd, spanLength));
        }

        return new NativeSnapshot(ZeroCount, [.. spans], [.. deltas]);
    }

    private void Grow(int index)
    {
        var first = Math.Min(index, _firstIndex);
        var end = Math.Max(index + 1, _firstIndex + _counts.Length);
        var grown = new long[Math.Max(end - first, _counts.Length * 2)];
        // Room on the side that grew, so that a run of new extremes does not copy each time.
        var newFirst = index < _firstIndex ? end - grown.Length : first;
        Array.Copy(_counts, 0, grown, _firstIndex - newFirst, _counts.Length);
        _counts = grown;
        _firstIndex = newFirst;
    }
}
