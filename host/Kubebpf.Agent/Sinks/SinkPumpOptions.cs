namespace Kubebpf.Agent.Sinks;

/// <summary>Buffering, batching and retry settings of one sink (configuration section <c>Plugins:&lt;instance&gt;:Buffer</c>).</summary>
public sealed class SinkPumpOptions
{
    /// <summary>Most points held for the sink, including the batch being written or retried; beyond it the oldest are dropped and counted.</summary>
    public int BufferLimit { get; set; } = 100_000;

    /// <summary>Most points per write; a write starts as soon as this many are buffered.</summary>
    public int BatchSize { get; set; } = 5000;

    /// <summary>How long a partial batch waits for more points before it is written anyway.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The first retry delay; later ones grow exponentially, with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest retry delay, also for a destination's <c>Retry-After</c>.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate(string sinkName)
    {
        Require(BufferLimit > 0, nameof(BufferLimit), $"must be positive (got {BufferLimit})");
        Require(BatchSize > 0 && BatchSize <= BufferLimit, nameof(BatchSize), $"must be between 1 and BufferLimit ({BufferLimit}) (got {BatchSize})");
        Require(FlushInterval > TimeSpan.Zero, nameof(FlushInterval), $"must be positive (got {FlushInterval})");
        Require(RetryDelay > TimeSpan.Zero, nameof(RetryDelay), $"must be positive (got {RetryDelay})");
        Require(MaxRetryDelay >= RetryDelay, nameof(MaxRetryDelay), $"must be at least RetryDelay ({RetryDelay}) (got {MaxRetryDelay})");

        void Require(bool valid, string setting, string problem)
        {
            if (!valid)
            {
                throw new ArgumentException($"Plugins:{sinkName}:Buffer:{setting} {problem}.");
            }
        }
    }
}
