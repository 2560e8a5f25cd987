namespace Kubebpf.Sdk.Metrics;

/// <summary>A tag: an indexed, low-cardinality dimension (workload, direction, method, status class).</summary>
public readonly record struct Tag(string Key, string Value);

/// <summary>A field: a value of the point. High-cardinality data (paths, IPs, ports) belongs here, never in tags.</summary>
public readonly record struct Field(string Key, FieldValue Value);

/// <summary>
/// The neutral data model between processors and sinks, mapping one to one onto InfluxDB line protocol.
/// Immutable once built; safe to share between threads and sinks.
/// </summary>
public sealed class MetricPoint
{
    private readonly Tag[] _tags;
    private readonly Field[] _fields;

    /// <summary>Creates a point. Tags and fields are taken as given (not copied); callers must not mutate them afterwards.</summary>
    /// <exception cref="ArgumentException">The measurement is empty or there is no field (line protocol needs one).</exception>
    public MetricPoint(string measurement, Tag[] tags, Field[] fields, long timestampUnixNs)
    {
        ArgumentException.ThrowIfNullOrEmpty(measurement);
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Length == 0)
        {
            throw new ArgumentException($"Point '{measurement}' has no field; every point needs at least one.", nameof(fields));
        }

        Measurement = measurement;
        _tags = tags;
        _fields = fields;
        TimestampUnixNs = timestampUnixNs;
    }

    /// <summary>The measurement name, e.g. <c>http_red</c>.</summary>
    public string Measurement { get; }

    /// <summary>Tags in the order the producer gave them.</summary>
    public IReadOnlyList<Tag> Tags => _tags;

    /// <summary>Fields in the order the producer gave them; never empty.</summary>
    public IReadOnlyList<Field> Fields => _fields;

    /// <summary>Nanoseconds since the Unix epoch (UTC).</summary>
    public long TimestampUnixNs { get; }

    /// <summary>The array the producer gave: the encoder caches a series by this instance, since arrays never change.</summary>
    internal Tag[] TagArray => _tags;

    /// <summary>The tags without interface dispatch, for the encoder.</summary>
    internal ReadOnlySpan<Tag> TagSpan => _tags;

    /// <summary>The fields without interface dispatch, for the encoder.</summary>
    internal ReadOnlySpan<Field> FieldSpan => _fields;

    /// <summary>The value of a tag, or null when the point has no such tag.</summary>
    public string? Tag(string key)
    {
        foreach (var tag in _tags)
        {
            if (tag.Key == key)
            {
                return tag.Value;
            }
        }

        return null;
    }

    /// <summary>The value of a field, or null when the point has no such field.</summary>
    public FieldValue? Field(string key)
    {
        foreach (var field in _fields)
        {
            if (field.Key == key)
            {
                return field.Value;
            }
        }

        return null;
    }
}
