using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Prometheus.Metrics;

/// <summary>Something that remembers when it last got a sample (a <see cref="TimeProvider"/> timestamp).</summary>
internal interface IIdleTracked
{
    /// <summary>When the last sample came.</summary>
    long LastSeen { get; }
}

/// <summary>
/// The idle-series expiry every source shares: label sets without a sample for
/// <see cref="PrometheusOptions.SeriesIdleTimeout"/> are removed at the host's flush, their room in the
/// <see cref="SeriesBudget"/> given back and their number counted (each source under its own counter).
/// </summary>
internal sealed class SeriesExpiry(TimeSpan idleTimeout, TimeProvider time, SeriesBudget budget, Counter expired)
{
    private readonly long _idleTicks = (long)(idleTimeout.TotalSeconds * time.TimestampFrequency);

    /// <summary>
    /// Removes the entries of <paramref name="entries"/> idle for longer than the timeout and returns how many; the
    /// caller holds the lock that guards <paramref name="entries"/> and passes the count to <see cref="Release"/>
    /// after leaving it (or not, for entries that are no series, such as route tables).
    /// </summary>
    public int RemoveIdle<TKey, TEntry>(Dictionary<TKey, TEntry> entries)
        where TKey : notnull
        where TEntry : IIdleTracked
    {
        var oldest = time.GetTimestamp() - _idleTicks;
        var removed = 0;
        foreach (var (key, entry) in entries)
        {
            if (entry.LastSeen < oldest)
            {
                entries.Remove(key); // removing while enumerating is allowed for Dictionary since .NET Core 3.0
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Gives back the budget of <paramref name="removed"/> series and counts them as expired.</summary>
    public void Release(int removed)
    {
        budget.Release(removed);
        expired.Add(removed);
    }
}
