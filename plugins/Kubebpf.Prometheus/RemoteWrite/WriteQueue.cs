namespace Kubebpf.Prometheus.RemoteWrite;

/// <summary>A compressed write request waiting to be sent.</summary>
internal sealed record PendingRequest(byte[] Body, int Samples);

/// <summary>
/// Requests waiting for the receiver, oldest first, bounded in bytes: a new request displaces the oldest ones until
/// it fits, and what it displaced is counted. The newest is always kept, even alone above the bound, because it
/// carries the latest totals. Used by the sender's loop only (no locking); the gauges read its counts atomically.
/// </summary>
internal sealed class WriteQueue(long maxBytes)
{
    private readonly Queue<PendingRequest> _requests = new();
    private long _bytes;
    private int _count;

    /// <summary>Bytes held.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Requests held.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Adds <paramref name="request"/>; returns the requests and bytes displaced to make room.</summary>
    public (int Requests, long Bytes) Enqueue(PendingRequest request)
    {
        var dropped = (Requests: 0, Bytes: 0L);
        while (_requests.Count > 0 && _bytes + request.Body.Length > maxBytes)
        {
            var oldest = Dequeue();
            dropped = (dropped.Requests + 1, dropped.Bytes + oldest.Body.Length);
        }

        _requests.Enqueue(request);
        Update(request.Body.Length, 1);
        return dropped;
    }

    /// <summary>The oldest request, or null.</summary>
    public PendingRequest? Peek() => _requests.TryPeek(out var request) ? request : null;

    /// <summary>Removes the oldest request.</summary>
    public PendingRequest Dequeue()
    {
        var request = _requests.Dequeue();
        Update(-request.Body.Length, -1);
        return request;
    }

    private void Update(long bytes, int count)
    {
        Interlocked.Add(ref _bytes, bytes);
        Interlocked.Add(ref _count, count);
    }
}
