using System.Runtime.InteropServices;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Agent.Sinks;

/// <summary>
/// One bounded FIFO of a sink (a sink has one per <see cref="PointPriority"/>): a ring of points addressed by ever-increasing
/// sequence numbers, so that the batch being written keeps its place (and counts against the bounds) until the write
/// succeeds, while overflow evicts the oldest points, in-flight ones included. Bounded both in points and in estimated
/// bytes (<see cref="PointSize"/>: a tag array shared by many points is counted once while any of them is held); batches
/// are bounded in both too, a batch counting each point's tags, since every line of the written batch repeats them. Thread-safe: producers add from any thread; one pump takes batches.
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
    private readonly long _limitBytes;
    private readonly int _batchSize;
    private readonly long _batchBytes;
    private readonly Counter _overflow;
    private readonly Counter _totalOverflow;
    private MetricPoint?[] _ring;
    private int[] _sizes; // each point's owned bytes plus its tag array's
    private readonly Dictionary<object, SharedTags> _tagArrays = new(ReferenceEqualityComparer.Instance);
    private long _bytes;
    private long _head;
    private long _tail;
    private long _batchStart;
    private long _batchEnd;
    private long _attemptStart;
    private long _attemptEnd;
    private bool _draining;
    private bool _closed;
    private TaskCompletionSource? _wake;

    /// <param name="limit">Most points held.</param>
    /// <param name="limitBytes">Most estimated bytes held.</param>
    /// <param name="batchSize">Most points per batch.</param>
    /// <param name="batchBytes">Most estimated bytes per batch (a batch has at least one point).</param>
    /// <param name="overflow">Counts this buffer's evictions.</param>
    /// <param name="totalOverflow">Counts the evictions of all the sink's buffers.</param>
    public PointBuffer(int limit, long limitBytes, int batchSize, long batchBytes, Counter overflow, Counter totalOverflow)
    {
        _limit = limit;
        _limitBytes = limitBytes;
        _batchSize = batchSize;
        _batchBytes = batchBytes;
        _overflow = overflow;
        _totalOverflow = totalOverflow;
        var capacity = Math.Min(InitialCapacity, (int)RoundUpToPowerOf2((uint)limit));
        _ring = new MetricPoint?[capacity];
        _sizes = new int[capacity];
    }

    /// <summary>Estimated bytes held, including the batch in flight.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
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
    /// Null when a batch should be taken now (a full batch, in points or bytes, is buffered, or anything is while draining);
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

    /// <summary>Chooses the next batch: the oldest points, up to the batch size and the batch bytes. Returns its size.</summary>
    public int SelectBatch()
    {
        lock (_lock)
        {
            _batchStart = _head;
            var end = Math.Min(_tail, _head + _batchSize);
            long bytes = 0;
            _batchEnd = _head;
            while (_batchEnd < end && (_batchEnd == _head || bytes + _sizes[Index(_batchEnd)] <= _batchBytes))
            {
                bytes += _sizes[Index(_batchEnd++)];
            }

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
            CountOverflow(evicted);
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
                RemoveHead();
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
            _tagArrays.Clear();
            _head = _tail;
            _bytes = 0;
            return dropped;
        }
    }

    private void Append(MetricPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        ref var tags = ref CollectionsMarshal.GetValueRefOrAddDefault(_tagArrays, point.Tags, out var tagsHeld);
        if (!tagsHeld)
        {
            tags.Bytes = PointSize.Tags(point.Tags);
        }

        var size = PointSize.Owned(point) + tags.Bytes;
        if (size > _limitBytes)
        {
            if (!tagsHeld)
            {
                _tagArrays.Remove(point.Tags);
            }

            CountOverflow(1); // could never fit: dropped rather than emptying the buffer for it
            return;
        }

        // Charged now, so that evictions below cannot release the array this point is about to use.
        tags.References++;
        var added = size - (tagsHeld ? tags.Bytes : 0);
        while (_tail - _head == _limit || _bytes + added > _limitBytes)
        {
            // Evictions inside the attempt in flight are counted when it ends (EndAttemptFailed), or not at all if it succeeds.
            if (_head < _attemptStart || _head >= _attemptEnd)
            {
                CountOverflow(1);
            }

            RemoveHead();
        }

        if (_tail - _head == _ring.Length)
        {
            Grow();
        }

        _sizes[Index(_tail)] = size;
        _ring[Index(_tail++)] = point;
        _bytes += added;
    }

    private void RemoveHead()
    {
        var index = Index(_head++);
        var point = _ring[index]!;
        _ring[index] = null;
        ref var tags = ref CollectionsMarshal.GetValueRefOrNullRef(_tagArrays, point.Tags);
        _bytes -= _sizes[index] - tags.Bytes;
        if (--tags.References == 0)
        {
            _bytes -= tags.Bytes;
            _tagArrays.Remove(point.Tags);
        }
    }

    private void CountOverflow(long points)
    {
        _overflow.Add(points);
        _totalOverflow.Add(points);
    }

    private void Grow()
    {
        var grown = new MetricPoint?[_ring.Length * 2];
        var grownSizes = new int[grown.Length];
        for (var sequence = _head; sequence < _tail; sequence++)
        {
            grown[sequence & (grown.Length - 1)] = _ring[Index(sequence)];
            grownSizes[sequence & (grown.Length - 1)] = _sizes[Index(sequence)];
        }

        _ring = grown;
        _sizes = grownSizes;
    }

    private bool IsReady() => _tail - _head >= _batchSize || _bytes >= _batchBytes || (_draining && _tail > _head);

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

    /// <summary>A tag array held by the buffer: its estimated bytes, and how many held points use it.</summary>
    private struct SharedTags
    {
        public int Bytes;
        public int References;
    }

    private long Index(long sequence) => sequence & (_ring.Length - 1);

    private static ulong RoundUpToPowerOf2(uint value) => value <= 1 ? 1 : 1UL << (32 - System.Numerics.BitOperations.LeadingZeroCount(value - 1));
}
