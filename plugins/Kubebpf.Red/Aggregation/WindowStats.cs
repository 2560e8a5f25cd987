using Kubebpf.Sdk.Events;

namespace Kubebpf.Red.Aggregation;

/// <summary>What one R.E.D. series saw in the current flush window. Not thread-safe: the aggregator synchronises.</summary>
internal sealed class WindowStats
{
    /// <summary>Durations of every exchange; its count is the request count.</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>Requests refused as the client's fault (<see cref="ExchangeOutcome.ClientError"/>, HTTP 4xx).</summary>
    public long ClientErrors { get; private set; }

    /// <summary>Requests that failed (<see cref="ExchangeOutcome.Error"/>) or went unanswered (<see cref="ExchangeOutcome.Timeout"/>).</summary>
    public long Errors { get; private set; }

    /// <summary>Requests that went unanswered; also counted in <see cref="Errors"/>.</summary>
    public long Timeouts { get; private set; }

    /// <summary>How many exchanges were recorded.</summary>
    public long Requests => Latency.Count;

    /// <summary>Records one exchange.</summary>
    public void Record(ExchangeOutcome outcome, long durationNs)
    {
        Latency.Record(durationNs);
        switch (outcome)
        {
            case ExchangeOutcome.ClientError:
                ClientErrors++;
                break;
            case ExchangeOutcome.Error:
                Errors++;
                break;
            case ExchangeOutcome.Timeout:
                Errors++;
                Timeouts++;
                break;
        }
    }

    /// <summary>Adds <paramref name="other"/>'s window to this one (used for the roll-up).</summary>
    public void Merge(WindowStats other)
    {
        Latency.Merge(other.Latency);
        ClientErrors += other.ClientErrors;
        Errors += other.Errors;
        Timeouts += other.Timeouts;
    }

    /// <summary>Starts a new window.</summary>
    public void Reset()
    {
        Latency.Reset();
        ClientErrors = 0;
        Errors = 0;
        Timeouts = 0;
    }
}
