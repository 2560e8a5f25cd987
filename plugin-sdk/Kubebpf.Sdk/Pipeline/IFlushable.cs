namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// Optional capability of a component that aggregates: the host calls <see cref="Flush"/> once per flush interval
/// (<c>Agent:FlushInterval</c>, default 10 s) and once more at shutdown, after the probes have stopped.
/// </summary>
public interface IFlushable
{
    /// <summary>
    /// Emits what was aggregated since the previous flush into <paramref name="output"/> and starts a new window.
    /// Called from a host pool thread, never concurrently with itself, but concurrently with event delivery:
    /// implementations synchronise with their own event handlers. A flush that takes longer than the agent's
    /// <c>FlushTimeout</c> is reported and the component is skipped at later flushes until it returns.
    /// </summary>
    /// <param name="windowEndUnixNs">The end of the window being flushed, as nanoseconds since the Unix epoch.</param>
    /// <param name="output">Where to write the points: each sink's aggregates queue, kept apart from (and written ahead of) the per-event records other writers send, so that aggregates outlive an outage.</param>
    void Flush(long windowEndUnixNs, IPointWriter output);
}
