using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Prometheus.Metrics;

/// <summary>
/// The bound on label sets shared by every source of this plugin (<see cref="PrometheusOptions.MaxSeries"/>). A sample
/// that would need a new series beyond it is dropped and counted in <c>series_overflow</c>.
/// </summary>
internal sealed class SeriesBudget
{
    private readonly int _max;
    private readonly Counter _overflow;
    private int _held;

    public SeriesBudget(int max, IAgentMetrics metrics)
    {
        _max = max;
        _overflow = metrics.Counter("series_overflow", "A sample dropped because MaxSeries label sets were already held.");
        metrics.Gauge("series", "Label sets held (counters, histograms and gauges).", () => Volatile.Read(ref _held));
    }

    /// <summary>Label sets held.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Takes room for one new series; false (and counted) when full.</summary>
    public bool TryTake()
    {
        if (Interlocked.Increment(ref _held) <= _max)
        {
            return true;
        }

        Interlocked.Decrement(ref _held);
        _overflow.Increment();
        return false;
    }

    /// <summary>Gives back the room of <paramref name="count"/> removed series.</summary>
    public void Release(int count) => Interlocked.Add(ref _held, -count);
}
