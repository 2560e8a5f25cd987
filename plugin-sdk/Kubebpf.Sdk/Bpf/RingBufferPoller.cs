using System.Diagnostics;
using System.Runtime.InteropServices;

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
/// Drives a <see cref="RingBufferReader"/>: after a drain it sleeps <see cref="PollInterval"/> while the ring has room
/// for the records that arrive meanwhile (below), else drains again at once; once the ring stayed empty that long, it
/// waits on the ring itself for up to <see cref="IdleWait"/>. Runs on the calling thread until cancelled.
/// </summary>
/// <remarks>
/// While records flow the producer should not wake the consumer per record: with <c>BPF_RB_NO_WAKEUP</c> it never
/// does (then <see cref="IdleWait"/> bounds the added latency of the first record after a quiet spell), with flags 0 the
/// kernel wakes it only for a record written into an empty ring, which ends the idle wait at once, and raises at most one
/// wakeup per drain while the poller sleeps its <see cref="PollInterval"/>s.
/// <para>
/// A busy producer does not keep the poller draining back to back: each drain then hands over a sliver (tens of
/// records), and its fixed costs, the batch end and the wakeups of whatever threads the handler hands the batch to,
/// recur a thousand times a second. After a drain the poller sleeps a <see cref="PollInterval"/> as long as the
/// records pending plus those expected meanwhile, at the rate they arrived during the drain, stay within a quarter of
/// the ring; past that rate it drains again at once, as before, so a small ring or a burst is never left to fill.
/// </para>
/// </remarks>
public sealed class RingBufferPoller
{
    /// <summary>The default sleep between polls of an empty ring.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(5);

    private readonly TimeSpan? _idleWait;

    /// <summary>How long to sleep after a drain (see the class remarks) or when a drain found nothing after records came: batches the next records, bounds their added latency.</summary>
    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    /// <summary>
    /// The longest wait on a ring that stayed empty for a <see cref="PollInterval"/>, before the next drain and
    /// <see cref="IBatchRecordHandler.OnIdle"/>; a record that wakes the ring ends it early. Defaults to
    /// <see cref="PollInterval"/>.
    /// </summary>
    public TimeSpan IdleWait
    {
        get => _idleWait ?? PollInterval;
        init => _idleWait = value;
    }

    /// <summary>
    /// Loops: drain <paramref name="reader"/> into <paramref name="handler"/>, call <see cref="IBatchRecordHandler.OnBatchEnd"/>
    /// when records came and sleep or drain again at once, else call <see cref="IBatchRecordHandler.OnIdle"/> and sleep (see
    /// the class remarks). Returns when <paramref name="cancellationToken"/> is cancelled (after a last drain),
    /// without throwing.
    /// </summary>
    /// <returns>The number of records handed over.</returns>
    public long Run<THandler>(RingBufferReader reader, ref THandler handler, CancellationToken cancellationToken)
        where THandler : struct, IBatchRecordHandler
    {
        ArgumentNullException.ThrowIfNull(reader);
        using var wait = RingWait.Open(reader.Fd, cancellationToken);
        long total = 0;
        var emptyDrains = 0;
        while (true)
        {
            var cancelled = cancellationToken.IsCancellationRequested;
            var drainStarted = Stopwatch.GetTimestamp();
            var producedBefore = reader.Produced;
            var count = reader.Drain(ref handler);
            if (count > 0)
            {
                total += count;
                emptyDrains = 0;
                handler.OnBatchEnd();
            }

            if (cancelled)
            {
                return total;
            }

            if (count > 0)
            {
                if (HasRoomToBatch(reader.Pending, reader.Produced - producedBefore, Stopwatch.GetElapsedTime(drainStarted), PollInterval, reader.Size))
                {
                    cancellationToken.WaitHandle.WaitOne(PollInterval);
                }
            }
            else
            {
                handler.OnIdle();
                var quiet = emptyDrains++ > 0; // empty for a whole PollInterval: nothing to batch, wait for the ring
                if (!quiet || wait is null || !wait.Wait(IdleWait))
                {
                    cancellationToken.WaitHandle.WaitOne(quiet ? IdleWait : PollInterval);
                }
            }
        }
    }

    /// <summary>
    /// Whether the poller may sleep <paramref name="pollInterval"/> after a drain: the <paramref name="pending"/> bytes
    /// plus those expected meanwhile, at the rate of the <paramref name="arrived"/> bytes written during the drain (which
    /// took <paramref name="drainTime"/>), fill at most a quarter of the ring of <paramref name="ringSize"/> bytes. A short
    /// drain overstates the rate, which errs towards draining at once.
    /// </summary>
    internal static bool HasRoomToBatch(long pending, ulong arrived, TimeSpan drainTime, TimeSpan pollInterval, uint ringSize)
    {
        var expected = arrived * (pollInterval.TotalSeconds / Math.Max(drainTime.TotalSeconds, 1e-6));
        return pending + expected <= ringSize / 4.0;
    }

    /// <summary>Waits for the ring's descriptor to poll readable, or for cancellation (through an eventfd).</summary>
    private sealed unsafe class RingWait : IDisposable
    {
        private readonly int _ringFd;
        private readonly int _cancelFd;
        private readonly CancellationTokenRegistration _registration;

        private RingWait(int ringFd, int cancelFd, CancellationToken cancellationToken)
        {
            _ringFd = ringFd;
            _cancelFd = cancelFd;
            _registration = cancellationToken.Register(static state => ((RingWait)state!).Signal(), this);
        }

        /// <summary>A wait on <paramref name="ringFd"/>, or null when there is none to wait on (a ring in ordinary memory, no eventfd).</summary>
        public static RingWait? Open(int ringFd, CancellationToken cancellationToken)
        {
            if (ringFd < 0)
            {
                return null;
            }

            var cancelFd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
            return cancelFd < 0 ? null : new RingWait(ringFd, cancelFd, cancellationToken);
        }

        /// <summary>False when poll failed (other than by a signal) or flagged the ring's descriptor: the caller sleeps instead of spinning.</summary>
        public bool Wait(TimeSpan timeout)
        {
            var fds = stackalloc LibC.pollfd[2];
            fds[0] = new LibC.pollfd { fd = _ringFd, events = LibC.POLLIN };
            fds[1] = new LibC.pollfd { fd = _cancelFd, events = LibC.POLLIN };
            var milliseconds = (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 0, int.MaxValue);
            return LibC.poll(fds, 2, milliseconds) >= 0
                ? (fds[0].revents & (LibC.POLLERR | LibC.POLLNVAL)) == 0
                : Marshal.GetLastPInvokeError() == LibC.EINTR;
        }

        public void Dispose()
        {
            _registration.Dispose(); // waits for a running Signal, so the descriptor is not closed under it
            LibC.close(_cancelFd);
        }

        private void Signal()
        {
            ulong one = 1;
            LibC.write(_cancelFd, &one, sizeof(ulong));
        }
    }
}
