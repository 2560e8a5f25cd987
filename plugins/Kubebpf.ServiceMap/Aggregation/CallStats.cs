using Kubebpf.Sdk.Events;

namespace Kubebpf.ServiceMap.Aggregation;

/// <summary>
/// The calls of one edge in one window: counts by outcome, and durations in fixed buckets, which add up across
/// windows and agents in InfluxDB (<c>sum()</c>) where percentiles would not. Not thread-safe.
/// </summary>
internal sealed class CallStats
{
    /// <summary>Upper bounds of the duration buckets, in milliseconds; the last bucket has none.</summary>
    public static readonly double[] BucketBoundsMs = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

    /// <summary>Field names of the buckets: <c>le_1ms</c> ... <c>le_5000ms</c>, <c>le_inf</c>.</summary>
    public static readonly string[] BucketFields =
        [.. BucketBoundsMs.Select(b => $"le_{b.ToString(System.Globalization.CultureInfo.InvariantCulture)}ms"), "le_inf"];

    private const double NsPerMs = 1e6;

    public long Requests { get; private set; }

    public long Errors { get; private set; }

    public long ClientErrors { get; private set; }

    public long Timeouts { get; private set; }

    public long DurationSumNs { get; private set; }

    public long DurationMaxNs { get; private set; }

    /// <summary>Durations per bucket (not cumulative).</summary>
    public long[] Buckets { get; } = new long[BucketBoundsMs.Length + 1];

    public void Record(ExchangeOutcome outcome, long durationNs)
    {
        Requests++;
        switch (outcome)
        {
            case ExchangeOutcome.Error:
                Errors++;
                break;
            case ExchangeOutcome.ClientError:
                ClientErrors++;
                break;
            case ExchangeOutcome.Timeout:
                Timeouts++;
                break;
        }

        var duration = Math.Max(durationNs, 0);
        DurationSumNs += duration;
        DurationMaxNs = Math.Max(DurationMaxNs, duration);
        var ms = duration / NsPerMs;
        var bucket = 0;
        while (bucket < BucketBoundsMs.Length && ms > BucketBoundsMs[bucket])
        {
            bucket++;
        }

        Buckets[bucket]++;
    }

    /// <summary>
    /// The duration under which <paramref name="quantile"/> of the window's calls fell, in milliseconds: linear within
    /// its bucket, capped by the largest duration seen (which also closes the last bucket).
    /// </summary>
    public double QuantileMs(double quantile)
    {
        if (Requests == 0)
        {
            return 0;
        }

        var maxMs = DurationMaxNs / NsPerMs;
        var rank = quantile * Requests;
        long below = 0;
        for (var i = 0; i < Buckets.Length; i++)
        {
            if (Buckets[i] > 0 && below + Buckets[i] >= rank)
            {
                var lower = i == 0 ? 0 : BucketBoundsMs[i - 1];
                var upper = i < BucketBoundsMs.Length ? Math.Min(BucketBoundsMs[i], maxMs) : maxMs;
                return Math.Min(lower + ((upper - lower) * (rank - below) / Buckets[i]), maxMs);
            }

            below += Buckets[i];
        }

        return maxMs;
    }
}
