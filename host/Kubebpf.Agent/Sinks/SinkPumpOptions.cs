namespace Kubebpf.Agent.Sinks;

/// <summary>Buffering, batching and retry settings of one sink (configuration section <c>Plugins:&lt;instance&gt;:Buffer</c>).</summary>
public sealed class SinkPumpOptions
{
    /// <summary>Most points held in each of the sink's two queues, including the batch being written or retried; beyond it the oldest are dropped and counted.</summary>
    public int BufferLimit { get; set; } = 100_000;

    /// <summary>
    /// Most estimated bytes held in the aggregates queue (R.E.D., service map, self-metrics); beyond it its oldest are dropped
    /// and counted. This queue is nearly empty while the destination keeps up; 8 MiB held ten minutes of outage at 50 series
    /// per 10 s flush by the earlier estimate, which counted shared strings for every point (more by the present one).
    /// </summary>
    public long AggregatesBufferBytes { get; set; } = 8L << 20;

    /// <summary>
    /// Most estimated bytes held in the records queue (call log, profiles); beyond it its oldest are dropped and counted.
    /// At saturation a destination on the same cores falls behind the call log and this queue stays full, so its bound is
    /// part of the agent's peak memory (README, "Memory").
    /// </summary>
    public long RecordsBufferBytes { get; set; } = 16L << 20;

    /// <summary>Most points per write; a write starts as soon as this many are buffered.</summary>
    public int BatchSize { get; set; } = 5000;

    /// <summary>
    /// Most estimated bytes per write (a write holds at least one point); a write starts as soon as this many are buffered.
    /// The sink keeps a body buffer as large as its largest batch.
    /// </summary>
    public long BatchBytes { get; set; } = 4L << 20;

    /// <summary>
    /// How long one write may take before the pump abandons it (a sink that hangs or ignores cancellation): counted in
    /// <c>write_timeouts</c> and retried once the sink returns.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(60);

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
        Require(AggregatesBufferBytes >= 64 << 10, nameof(AggregatesBufferBytes), $"must be at least 65536 (got {AggregatesBufferBytes})");
        Require(RecordsBufferBytes >= 64 << 10, nameof(RecordsBufferBytes), $"must be at least 65536 (got {RecordsBufferBytes})");
        Require(BatchBytes > 0 && BatchBytes <= Math.Min(AggregatesBufferBytes, RecordsBufferBytes), nameof(BatchBytes),
            $"must be positive and at most the smaller buffer ({Math.Min(AggregatesBufferBytes, RecordsBufferBytes)}) (got {BatchBytes})");
        Require(WriteTimeout > TimeSpan.Zero, nameof(WriteTimeout), $"must be positive (got {WriteTimeout})");
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
