namespace Kubebpf.Profiler.Symbols;

/// <summary>A bounded map that evicts the least recently used entry. Not thread-safe.</summary>
internal sealed class LruCache<TKey, TValue>(int capacity)
    where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> _index = [];
    private readonly LinkedList<(TKey Key, TValue Value)> _order = new();

    /// <summary>Entries evicted to stay within the bound.</summary>
    public long Evictions { get; private set; }

    /// <summary>Entries held.</summary>
    public int Count => _index.Count;

    /// <summary>The value of <paramref name="key"/>, created by <paramref name="create"/> when absent.</summary>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> create)
    {
        if (_index.TryGetValue(key, out var node))
        {
            _order.Remove(node);
            _order.AddFirst(node);
            return node.Value.Value;
        }

        var value = create(key);
        _index[key] = _order.AddFirst((key, value));
        if (_index.Count > capacity)
        {
            _index.Remove(_order.Last!.Value.Key);
            _order.RemoveLast();
            Evictions++;
        }

        return value;
    }

    /// <summary>Drops <paramref name="key"/>.</summary>
    public void Remove(TKey key)
    {
        if (_index.Remove(key, out var node))
        {
            _order.Remove(node);
        }
    }

    /// <summary>The keys, most recently used first.</summary>
    public IEnumerable<TKey> Keys => _order.Select(e => e.Key);
}
