using System.Numerics;

namespace Kubebpf.Red.Aggregation;

/// <summary>
/// A log-linear (HDR-like) histogram of durations in nanoseconds with fixed memory and a bounded relative error.
/// Values below 128 ns get a bucket each; every power of two above is split into 64 equal buckets, so a bucket's
/// width is at most 1/64 of its lower bound and its midpoint is within 1/128 (0.79 %) of any value in it.
/// Durations above <see cref="MaxTrackableNs"/> (about 275 s) share the last bucket; min, max and mean stay exact.
/// Two histograms merge by adding their bucket arrays. Not thread-safe: the owner synchronises.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>The largest duration with its own bucket: 2^38 - 1 ns.</summary>
    public const long MaxTrackableNs = (1L << (HighestExponent + 1)) - 1;

    /// <summary>The documented bound on |estimate - exact| / exact for any quantile.</summary>
    public const double MaxRelativeError = 1.0 / (2 * SubBucketCount);

    private const int SubBucketBits = 6;
    private const int SubBucketCount = 1 << SubBucketBits;
    private const int HighestExponent = 37;
    private const int BucketCount = (HighestExponent - SubBucketBits + 2) * SubBucketCount;

    // int counts keep a series at 8.4 KB; 2^31 exchanges in one flush window of one series is out of reach.
    private readonly int[] _counts = new int[BucketCount];
    private int _lowestUsed = BucketCount;
    private int _highestUsed = -1;

    /// <summary>How many durations were recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The sum of all recorded durations, for the exact mean.</summary>
    public long SumNs { get; private set; }

    /// <summary>The smallest recorded duration, or 0 when empty.</summary>
    public long MinNs { get; private set; }

    /// <summary>The largest recorded duration, or 0 when empty.</summary>
    public long MaxNs { get; private set; }

    /// <summary>The exact mean in nanoseconds, or 0 when empty.</summary>
    public double MeanNs => Count == 0 ? 0 : (double)SumNs / Count;

    /// <summary>Records one duration; negative values count as 0.</summary>
    public void Record(long durationNs)
    {
        var value = Math.Max(durationNs, 0);
        var index = BucketIndex(Math.Min(value, MaxTrackableNs));
        _counts[index]++;
        _lowestUsed = Math.Min(_lowestUsed, index);
        _highestUsed = Math.Max(_highestUsed, index);
        MinNs = Count == 0 ? value : Math.Min(MinNs, value);
        MaxNs = Math.Max(MaxNs, value);
        SumNs += value;
        Count++;
    }

    /// <summary>Adds every recording of <paramref name="other"/> to this histogram.</summary>
    public void Merge(LatencyHistogram other)
    {
        if (other.Count == 0)
        {
            return;
        }

        for (var i = other._lowestUsed; i <= other._highestUsed; i++)
        {
            _counts[i] += other._counts[i];
        }

        _lowestUsed = Math.Min(_lowestUsed, other._lowestUsed);
        _highestUsed = Math.Max(_highestUsed, other._highestUsed);
        MinNs = Count == 0 ? other.MinNs : Math.Min(MinNs, other.MinNs);
        MaxNs = Math.Max(MaxNs, other.MaxNs);
        SumNs += other.SumNs;
        Count += other.Count;
    }

    /// <summary>
    /// The nearest-rank quantile (the value at rank ceil(q * count) in sorted order), estimated as its bucket's
    /// midpoint clamped to [min, max]; exact for the first and last rank; 0 when empty.
    /// </summary>
    public double ValueAtQuantile(double quantile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(Math.Clamp(quantile, 0, 1) * Count));
        if (rank == 1 || rank == Count)
        {
            return rank == 1 ? MinNs : MaxNs;
        }

        long seen = 0;
        for (var i = _lowestUsed; i <= _highestUsed; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Clamp(BucketMidpoint(i), MinNs, MaxNs);
            }
        }

        return MaxNs;
    }

    /// <summary>Empties the histogram, touching only the buckets in use.</summary>
    public void Reset()
    {
        if (_highestUsed >= 0)
        {
            Array.Clear(_counts, _lowestUsed, _highestUsed - _lowestUsed + 1);
        }

        _lowestUsed = BucketCount;
        _highestUsed = -1;
        Count = 0;
        SumNs = 0;
        MinNs = 0;
        MaxNs = 0;
    }

    private static int BucketIndex(long value)
    {
        if (value < 2 * SubBucketCount)
        {
            return (int)value;
        }

        var exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = exponent - SubBucketBits;
        return ((shift + 1) * SubBucketCount) + (int)((value >> shift) & (SubBucketCount - 1));
    }

    private static double BucketMidpoint(int index)
    {
        if (index < 2 * SubBucketCount)
        {
            return index;
        }

        var shift = (index / SubBucketCount) - 1;
        var lowerBound = (long)(SubBucketCount + (index % SubBucketCount)) << shift;
        var width = 1L << shift;
        return lowerBound + ((width - 1) / 2.0);
    }
}
