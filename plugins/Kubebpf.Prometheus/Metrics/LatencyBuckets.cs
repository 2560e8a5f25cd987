namespace Kubebpf.Prometheus.Metrics;

/// <summary>
/// The duration histogram's bucket bounds, in seconds. From 100 µs (a request between two pods of one node) to 10 s
/// (a slow query), about three per decade (1, 2.5, 5), the shape of Prometheus client libraries' defaults shifted down
/// by one decade because in-cluster calls are fast. Compared in integer nanoseconds, so a bound is inclusive exactly.
/// </summary>
internal static class LatencyBuckets
{
    /// <summary>The upper bounds (<c>le</c>) in seconds; +Inf follows.</summary>
    public static readonly double[] UpperBounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly long[] UpperBoundsNs = [.. UpperBounds.Select(s => (long)Math.Round(s * 1e9))];

    /// <summary>Buckets including +Inf.</summary>
    public static int Count => UpperBounds.Length + 1;

    /// <summary>The index of the first bucket whose bound is at least <paramref name="durationNs"/>; <see cref="UpperBounds"/>'s length for +Inf.</summary>
    public static int IndexOf(long durationNs)
    {
        var bounds = UpperBoundsNs;
        for (var i = 0; i < bounds.Length; i++)
        {
            if (durationNs <= bounds[i])
            {
                return i;
            }
        }

        return bounds.Length;
    }
}
