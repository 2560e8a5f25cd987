using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Agent.Sinks;

/// <summary>
/// The bounded FIFO of one sink: a ring of points addressed by ever-increasing sequence numbers, so that the batch being
/// written keeps its place (and counts against the bound) until the write succeeds, while overflow evicts the oldest points,
/// in-flight ones included. Thread-safe: producers add from any thread; one pump takes batches.
/// </summary>
/// <remarks>
/// Every point leaves through exactly one door: written (<see cref="Complete"/>), evicted (counted in <c>overflow</c>),
/// dropped with a failed batch, or dropped at <see cref="Close"/>. An in-flight point that is evicted is counted only when
/// its attempt ends: if that attempt succeeds, the point was written after all.
/// </remarks>
internal sealed class PointBuffer
{
    private const int InitialCapacity = 1024;

    private readonly Lock _lock = new();
    private readonly int _limit;
    private readonly int _batchSize;
    private readonly Counter _overflow;
    private MetricPoint?[] _ring;
    private long _head;
    private long _tail;
    private long _batchStart;
    private long _batchEnd;
    private long _attemptStart;
    private long _attemptEnd;
    private bool _draining;
    private bool _closed;
    private TaskCompletionSource? _wake;

    public PointBuffer(int limit, int batchSize, Counter overflow)
    {
        _limit = limit;
        _batchSize = batchSize;
        _overflow = overflow;
        _ring = new MetricPoint?[Math.Min(InitialCapacity, (int)RoundUpToPowerOf2((uint)limit))];
    }

    /// <summary>Points held, including the batch in flight.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return (int)(_tail - _head);
            }
        }
    }

    /// <summary>Adds a point; returns false (and keeps nothing) once the buffer is closed.</summary>
    public bool Add(MetricPoint point)
    {
        TaskCompletionSource? wake;
        lock (_lock)
        {
            if (_closed)
            {
                return false;
            }

            Append(point);
            wake = TakeWakeIfReady();
        }

        wake?.TrySetResult();
        return true;
    }

    /// <summary>Adds points in order; returns false (and keeps nothing) once the buffer is closed.</summary>
    public bool Add(IReadOnlyList<MetricPoint> points)
    {
        TaskCompletionSource? wake;
        lock (_lock)
        {
            if (_closed)
            {
                return false;
            }

            for (var i = 0; i < points.Count; i++)
            {
                Append(points[i]);
            }

            wake = TakeWakeIfReady();
        }

        wake?.TrySetResult();
        return true;
    }

    /// <summary>
    /// Null when a batch should be taken now (a full batch is buffered, or anything is while draining);
    /// otherwise a task that completes when that becomes true.
    /// </summary>
    public Task? WaitForBatch()
    {
        lock (_lock)
        {
            if (IsReady())
            {
                return null;
            }

            _wake ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _wake.Task;
        }
    }

    /// <summary>From now on a batch is ready as soon as anything is buffered.</summary>
    public void StartDraining()
    {
        TaskCompletionSource? wake;
        lock (_lock)
        {
            _draining = true;
            wake = _wake;
            _wake = null;
        }

        wake?.TrySetResult();
    }

    /// <summary>Chooses the next batch: up to the batch size of the oldest points. Returns its size.</summary>
    public int SelectBatch()
    {
        lock (_lock)
        {
            _batchStart = _head;
            _batchEnd = Math.Min(_tail, _head + _batchSize);
            return (int)(_batchEnd - _batchStart);
        }
    }

    /// <summary>
    /// Copies what is left of the batch (overflow may have evicted its oldest points) into <paramref name="batch"/>
    /// and marks it in flight. False when nothing is left.
    /// </summary>
    public bool BeginAttempt(List<MetricPoint> batch)
    {
        lock (_lock)
        {
            batch.Clear();
            var start = Math.Max(_head, _batchStart);
            if (start >= _batchEnd)
            {
                return false;
            }

            for (var sequence = start; sequence < _batchEnd; sequence++)
            {
                batch.Add(_ring[Index(sequence)]!);
            }

            _attemptStart = start;
            _attemptEnd = _batchEnd;
            return true;
        }
    }

    /// <summary>The attempt failed (or was cancelled): the batch's points evicted meanwhile are lost, so count them now.</summary>
    public void EndAttemptFailed()
    {
        lock (_lock)
        {
            var evicted = Math.Clamp(_head, _attemptStart, _attemptEnd) - _attemptStart;
            _overflow.Add(evicted);
            _attemptStart = _attemptEnd = 0;
        }
    }

    /// <summary>The batch is done with (written, or dropped as unwritable): removes what is left of it.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            while (_head < _batchEnd)
            {
                _ring[Index(_head++)] = null;
            }

            _attemptStart = _attemptEnd = 0;
        }
    }

    /// <summary>Stops accepting points and empties the buffer; returns how many points were dropped.</summary>
    public int Close()
    {
        lock (_lock)
        {
            _closed = true;
            var dropped = (int)(_tail - _head);
            Array.Clear(_ring);
            _head = _tail;
            return dropped;
        }
    }

    private void Append(MetricPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (_tail - _head == _limit)
        {
            // Evictions inside the attempt in flight are counted when it ends (EndAttemptFailed), or not at all if it succeeds.
            if (_head < _attemptStart || _head >= _attemptEnd)
            {
                _overflow.Increment();
            }

            _ring[Index(_head++)] = null;
        }
        else if (_tail - _head == _ring.Length)
        {
            Grow();
        }

        _ring[Index(_tail++)] = point;
    }

    private void Grow()
    {
        var grown = new MetricPoint?[_ring.Length * 2];
        for (var sequence = _head; sequence < _tail; sequence++)
        {
            grown[sequence & (grown.Length - 1)] = _ring[Index(sequence)];
        }

        _ring = grown;
    }

    private bool IsReady() => _tail - _head >= _batchSize || (_draining && _tail > _head);

    private TaskCompletionSource? TakeWakeIfReady()
    {
        if (_wake is null || !IsReady())
        {
            return null;
        }

        var wake = _wake;
        _wake = null;
        return wake;
    }

    private long Index(long sequence) => sequence & (_ring.Length - 1);

    private static ulong RoundUpToPowerOf2(uint value) => value <= 1 ? 1 : 1UL << (32 - System.Numerics.BitOperations.LeadingZeroCount(value - 1));
}
