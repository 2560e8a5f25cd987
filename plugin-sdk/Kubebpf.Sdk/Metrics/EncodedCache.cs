using System.Runtime.CompilerServices;

namespace Kubebpf.Sdk.Metrics;

/// <summary>
/// Encoded line-protocol text by key, for <see cref="LineProtocolEncoder"/>. A key's bytes are kept on its second sighting,
/// so text seen once (a tag array built for a single point) costs a lookup, never an allocation. Bounded: when full it starts
/// over, which costs one encoding per key still in use, rather than grow with producers that never repeat a key.
/// </summary>
internal sealed class EncodedCache<TKey>(int capacity)
    where TKey : struct, IEquatable<TKey>
{
    private readonly Dictionary<TKey, byte[]?> _entries = [];

    /// <summary>Keys held, including those seen only once.</summary>
    public int Count => _entries.Count;

    /// <summary>Keys with bytes kept.</summary>
    public int Stored => _entries.Values.Count(bytes => bytes is not null);

    /// <summary>The bytes kept for <paramref name="key"/>; otherwise null, and <paramref name="seen"/> says whether it came before: then the caller should <see cref="Store"/> them.</summary>
    public byte[]? Find(TKey key, out bool seen)
    {
        if (_entries.TryGetValue(key, out var bytes))
        {
            seen = true;
            return bytes;
        }

        if (_entries.Count >= capacity)
        {
            _entries.Clear();
        }

        _entries.Add(key, null);
        seen = false;
        return null;
    }

    /// <summary>Keeps the bytes of a key <see cref="Find"/> has seen before.</summary>
    public void Store(TKey key, byte[] bytes) => _entries[key] = bytes;
}

/// <summary>A field key by instance: nothing to hash, and keys are mostly literals (one instance each).</summary>
internal readonly record struct FieldKey(string Key)
{
    public bool Equals(FieldKey other) => ReferenceEquals(Key, other.Key);

    public override int GetHashCode() => RuntimeHelpers.GetHashCode(Key);
}

/// <summary>A series by instance: a tag array never changes once given to a point (see <see cref="MetricPoint"/>).</summary>
internal readonly record struct SeriesKey(string Measurement, Tag[] Tags)
{
    public bool Equals(SeriesKey other) => ReferenceEquals(Tags, other.Tags) && ReferenceEquals(Measurement, other.Measurement);

    public override int GetHashCode() => RuntimeHelpers.GetHashCode(Tags) ^ RuntimeHelpers.GetHashCode(Measurement);
}
