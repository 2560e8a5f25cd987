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
        Tags = tags;
        Fields = fields;
        TimestampUnixNs = timestampUnixNs;
    }

    /// <summary>The measurement name, e.g. <c>http_red</c>.</summary>
    public string Measurement { get; }

    /// <summary>Tags in the order the producer gave them.</summary>
    public IReadOnlyList<Tag> Tags { get; }

    /// <summary>Fields in the order the producer gave them; never empty.</summary>
    public IReadOnlyList<Field> Fields { get; }

    /// <summary>Nanoseconds since the Unix epoch (UTC).</summary>
    public long TimestampUnixNs { get; }

    /// <summary>The value of a tag, or null when the point has no such tag.</summary>
    public string? Tag(string key)
    {
        foreach (var tag in Tags)
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
        foreach (var field in Fields)
        {
            if (field.Key == key)
            {
                return field.Value;
            }
        }

        return null;
    }
}
