namespace Kubebpf.Red.Aggregation;

/// <summary>What one R.E.D. series saw in the current flush window. Not thread-safe: the aggregator synchronises.</summary>
internal sealed class WindowStats
{
    /// <summary>Durations of every exchange; its count is the request count.</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>Requests answered with a 4xx status.</summary>
    public long ClientErrors { get; private set; }

    /// <summary>Requests answered with a 5xx status.</summary>
    public long ServerErrors { get; private set; }

    /// <summary>How many exchanges were recorded.</summary>
    public long Requests => Latency.Count;

    /// <summary>Records one exchange.</summary>
    public void Record(int status, long durationNs)
    {
        Latency.Record(durationNs);
        switch (status)
        {
            case >= 400 and <= 499:
                ClientErrors++;
                break;
            case >= 500 and <= 599:
                ServerErrors++;
                break;
        }
    }

    /// <summary>Adds <paramref name="other"/>'s window to this one (used for the per-workload roll-up).</summary>
    public void Merge(WindowStats other)
    {
        Latency.Merge(other.Latency);
        ClientErrors += other.ClientErrors;
        ServerErrors += other.ServerErrors;
    }

    /// <summary>Starts a new window.</summary>
    public void Reset()
    {
        Latency.Reset();
        ClientErrors = 0;
        ServerErrors = 0;
    }
}
