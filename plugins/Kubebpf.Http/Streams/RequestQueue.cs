namespace Kubebpf.Http.Streams;

/// <summary>FIFO of requests awaiting responses. Grows on demand up to its bound, so idle connections stay small.</summary>
internal sealed class RequestQueue(int capacity)
{
    private PendingRequest[] _items = new PendingRequest[Math.Min(capacity, 2)];
    private int _head;

    public int Count { get; private set; }

    public bool TryEnqueue(in PendingRequest request)
    {
        if (Count == _items.Length)
        {
            if (Count >= capacity)
            {
                return false;
            }

            Grow();
        }

        _items[Wrap(_head + Count)] = request;
        Count++;
        return true;
    }

    public bool TryDequeue(out PendingRequest request)
    {
        if (Count == 0)
        {
            request = default;
            return false;
        }

        request = _items[_head];
        _items[_head] = default;
        _head = Wrap(_head + 1);
        Count--;
        return true;
    }

    /// <summary>Sets the body size of request <paramref name="id"/> if it is still the newest one waiting.</summary>
    public void SetBodyBytesOfNewest(long id, long bodyBytes)
    {
        if (Count == 0)
        {
            return;
        }

        ref var newest = ref _items[Wrap(_head + Count - 1)];
        if (newest.Id == id)
        {
            newest.BodyBytes = bodyBytes;
        }
    }

    public void Clear()
    {
        Array.Clear(_items);
        _head = 0;
        Count = 0;
    }

    // Indexes given stay below twice the length: a subtraction instead of a division (the length need not be a power of two).
    private int Wrap(int index) => index >= _items.Length ? index - _items.Length : index;

    private void Grow()
    {
        var larger = new PendingRequest[Math.Min(capacity, _items.Length * 2)];
        for (var i = 0; i < Count; i++)
        {
            larger[i] = _items[(_head + i) % _items.Length];
        }

        _items = larger;
        _head = 0;
    }
}
