namespace Kubebpf.Sdk.Bpf;

/// <summary>A record handler that also learns when a drained batch ends (to publish once per batch).</summary>
public interface IBatchRecordHandler : IRecordHandler
{
    /// <summary>Called after each drain that handed over at least one record, on the polling thread.</summary>
    void OnBatchEnd();

    /// <summary>Called when a drain found nothing, before the poller sleeps, on the polling thread: housekeeping that must not wait for traffic goes here.</summary>
    void OnIdle()
    {
    }
}

/// <summary>
/// Drives a <see cref="RingBufferReader"/> whose producer writes with <c>BPF_RB_NO_WAKEUP</c>: drains, and sleeps
/// <see cref="PollInterval"/> whenever the ring is empty. Runs on the calling thread until cancelled.
/// </summary>
public sealed class RingBufferPoller
{
    /// <summary>The default sleep between polls of an empty ring.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>How long to sleep when a drain found nothing. Bounds the added latency; a shorter interval costs more wakeups.</summary>
    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    /// <summary>
    /// Loops: drain <paramref name="reader"/> into <paramref name="handler"/>, call <see cref="IBatchRecordHandler.OnBatchEnd"/>
    /// when records came, drain again at once while records keep coming, else call <see cref="IBatchRecordHandler.OnIdle"/> and sleep. Returns when
    /// <paramref name="cancellationToken"/> is cancelled (after a last drain), without throwing.
    /// </summary>
    /// <returns>The number of records handed over.</returns>
    public long Run<THandler>(RingBufferReader reader, ref THandler handler, CancellationToken cancellationToken)
        where THandler : struct, IBatchRecordHandler
    {
        ArgumentNullException.ThrowIfNull(reader);
        long total = 0;
        while (true)
        {
            var cancelled = cancellationToken.IsCancellationRequested;
            var count = reader.Drain(ref handler);
            if (count > 0)
            {
                total += count;
                handler.OnBatchEnd();
            }

            if (cancelled)
            {
                return total;
            }

            if (count == 0)
            {
                handler.OnIdle();
                cancellationToken.WaitHandle.WaitOne(PollInterval);
            }
        }
    }
}
