using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Capture;

/// <summary>
/// Publishes batches on a thread of its own, so that the capture thread does not wait for subscribers. A publish returns
/// only once every subscriber has handled the batch, and on a machine whose cores the watched workload keeps busy a
/// subscriber's thread waits milliseconds for a core each time it is woken: the capture thread, waiting with it a
/// few thousand times a second, drained too little and the kernel lost most records to a full ring (MySQL at 51,000
/// statements/s from 50 connections: 88% lost). Here the capture thread appends to a pending batch and goes on; the
/// relay publishes what gathered meanwhile, in larger batches the slower the subscribers are.
/// </summary>
/// <remarks>
/// Threading: <see cref="Publish"/> from one thread (the capture's); <see cref="Dispose"/> after the last
/// <see cref="Publish"/>: it publishes what is pending and waits for the relay thread. Memory is bounded by
/// the constructor's <c>maxPending</c> events: a batch that would take the pending ones past it waits until the relay
/// has taken them (counted), so subscribers that fall that far behind hold the drain back and the ring buffer, not
/// this queue, absorbs the burst (dropping here lost DNS answers at 65,000 queries/s while the ring still had room).
/// </remarks>
internal sealed class EventRelay<T> : IDisposable
{
    private readonly IEventPublisher<T> _target;
    private readonly int _maxPending;
    private readonly Counter _waits;
    private readonly Lock _lock = new();
    private readonly ManualResetEventSlim _pendingSignal = new(false, spinCount: 0);
    private readonly ManualResetEventSlim _roomSignal = new(true, spinCount: 0);
    private readonly Thread _thread;
    private List<T> _pending = [];
    private List<T> _publishing = [];
    private bool _stopping;

    /// <param name="target">Where the batches go (on the relay thread).</param>
    /// <param name="maxPending">The most events waiting to be published.</param>
    /// <param name="waits">Counts the batches that waited because that many events were already pending.</param>
    /// <param name="name">The relay thread's name.</param>
    public EventRelay(IEventPublisher<T> target, int maxPending, Counter waits, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPending);
        _target = target;
        _maxPending = maxPending;
        _waits = waits;
        // Background: a subscriber stuck for good must not keep the process alive.
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Whether the target has subscribers (see <see cref="IEventPublisher{T}.HasSubscribers"/>).</summary>
    public bool HasSubscribers => _target.HasSubscribers;

    /// <summary>
    /// Copies <paramref name="batch"/> to the pending events and wakes the relay; waits for the relay only while
    /// <c>maxPending</c> events are pending (a batch larger than that on its own goes once nothing else is pending).
    /// </summary>
    public void Publish(ReadOnlySpan<T> batch)
    {
        if (batch.IsEmpty)
        {
            return;
        }

        var waited = false;
        while (true)
        {
            lock (_lock)
            {
                if (_pending.Count == 0 || _pending.Count + batch.Length <= _maxPending)
                {
                    _pending.AddRange(batch);
                    break;
                }

                _roomSignal.Reset();
            }

            if (!waited)
            {
                _waits.Increment();
                waited = true;
            }

            _roomSignal.Wait();
        }

        _pendingSignal.Set();
    }

    /// <summary>Publishes what is pending, then stops the relay thread.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
        }

        _pendingSignal.Set();
        _thread.Join();
        _pendingSignal.Dispose();
        _roomSignal.Dispose();
    }

    private void Run()
    {
        while (true)
        {
            _pendingSignal.Wait();
            _pendingSignal.Reset();
            bool stopping;
            lock (_lock)
            {
                (_pending, _publishing) = (_publishing, _pending);
                stopping = _stopping;
                _roomSignal.Set();
            }

            // The publisher copies the batch for each subscriber: the list is reused once the call returns.
            if (_publishing.Count > 0)
            {
                _target.Publish(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_publishing));
                _publishing.Clear();
            }

            if (stopping)
            {
                return;
            }
        }
    }
}
