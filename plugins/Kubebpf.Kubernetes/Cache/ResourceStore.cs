namespace Kubebpf.Kubernetes.Cache;

/// <summary>
/// The cached objects of one resource, keyed by namespace/name. Written by one reflector, read by the snapshot
/// builder: every method takes the lock, readers get a copy.
/// </summary>
internal sealed class ResourceStore<TRecord>(Action changed)
    where TRecord : class
{
    private readonly Lock _lock = new();
    private Dictionary<string, TRecord> _items = new(StringComparer.Ordinal);

    /// <summary>True once a list has filled the store.</summary>
    public bool Synced { get; private set; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Replaces everything with the result of a list.</summary>
    public void Replace(IEnumerable<KeyValuePair<string, TRecord>> items)
    {
        var fresh = new Dictionary<string, TRecord>(items, StringComparer.Ordinal);
        lock (_lock)
        {
            _items = fresh;
            Synced = true;
        }

        changed();
    }

    public void Upsert(string key, TRecord record)
    {
        lock (_lock)
        {
            _items[key] = record;
        }

        changed();
    }

    public void Remove(string key)
    {
        lock (_lock)
        {
            _items.Remove(key);
        }

        changed();
    }

    public TRecord[] Items()
    {
        lock (_lock)
        {
            return [.. _items.Values];
        }
    }
}
