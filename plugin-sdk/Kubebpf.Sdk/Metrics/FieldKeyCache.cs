namespace Kubebpf.Sdk.Metrics;

/// <summary>
/// Encoded field keys with their equals sign (<c>key=</c>), for <see cref="LineProtocolEncoder"/>. Producers write their fields
/// in one order, so a slot per field position, holding the key last found there, answers most lookups with one reference
/// comparison; the bounded <see cref="EncodedCache{TKey}"/> behind it answers the rest.
/// </summary>
internal sealed class FieldKeyCache(int capacity)
{
    private const int Positions = 32;

    private readonly (string? Key, byte[]? Bytes)[] _slots = new (string?, byte[]?)[Positions];

    /// <summary>The keys behind the slots.</summary>
    public EncodedCache<FieldKey> Keys { get; } = new(capacity);

    /// <summary>The bytes kept for <paramref name="key"/>; otherwise null, as <see cref="EncodedCache{TKey}.Find"/>.</summary>
    public byte[]? Find(string key, int position, out bool seen)
    {
        if ((uint)position < Positions && ReferenceEquals(_slots[position].Key, key))
        {
            seen = true;
            return _slots[position].Bytes;
        }

        var bytes = Keys.Find(new FieldKey(key), out seen);
        if (bytes is not null && (uint)position < Positions)
        {
            _slots[position] = (key, bytes);
        }

        return bytes;
    }

    /// <summary>Keeps the bytes of a key <see cref="Find"/> has seen before.</summary>
    public void Store(string key, int position, byte[] bytes)
    {
        Keys.Store(new FieldKey(key), bytes);
        if ((uint)position < Positions)
        {
            _slots[position] = (key, bytes);
        }
    }
}
