using System.Buffers;

namespace Kubebpf.Sdk.Metrics;

/// <summary>
/// Writes <see cref="MetricPoint"/>s as InfluxDB line protocol, byte for byte as <see cref="LineProtocol"/> does (same escaping,
/// tag order, skipped tags, fields and points, same <see cref="LineProtocolStats"/>), but reuses what repeats from point to point:
/// the encoded measurement and tags of each tag array, and the encoded field keys.
/// </summary>
/// <remarks>
/// <para>
/// Both are found by instance, not by content, so a lookup hashes no text: a tag array never changes once given to a point
/// (a producer that changed one anyway would see its old tags written), so producers that share one array between the points
/// of a series (as the call log does) have its tags encoded once; field keys are mostly literals. Text is kept from its second sighting on, so a producer that builds a new tag array for every point
/// costs a lookup per point, not an allocation. Memory is bounded: each cache starts over when it holds a few thousand entries.
/// </para>
/// <para>Not thread-safe: use one encoder per sink, from one thread at a time.</para>
/// </remarks>
public sealed class LineProtocolEncoder
{
    // The call log keeps at most 4096 tag arrays; more entries than that come from producers that rebuild their arrays
    // (the R.E.D. roll-ups, once per flush), and holding them would only keep dead arrays alive.
    private const int DefaultMaxSeries = 4096;

    // Field keys are literals in practice, a few dozen; the bound only matters for a producer that builds keys per point.
    private const int DefaultMaxFieldKeys = 1024;

    // Room asked for each field before writing: a guess, so that no pass over the values is needed to size the line;
    // a line that does not fit is written again into a span of its upper bound.
    private const int GuessedFieldBytes = 64;

    private readonly EncodedCache<SeriesKey> _series;
    private readonly FieldKeyCache _fieldKeys;
    private byte[] _scratch = new byte[512];

    /// <summary>Creates an encoder with empty caches.</summary>
    /// <param name="options">Formatting options; <see cref="LineProtocolOptions.Default"/> when null.</param>
    public LineProtocolEncoder(LineProtocolOptions? options = null)
        : this(options, DefaultMaxSeries, DefaultMaxFieldKeys)
    {
    }

    /// <summary>Creates an encoder with the given cache bounds (for tests).</summary>
    internal LineProtocolEncoder(LineProtocolOptions? options, int maxSeries, int maxFieldKeys)
    {
        Options = options ?? LineProtocolOptions.Default;
        _series = new EncodedCache<SeriesKey>(maxSeries);
        _fieldKeys = new FieldKeyCache(maxFieldKeys);
    }

    /// <summary>The formatting options every line is written with.</summary>
    public LineProtocolOptions Options { get; }

    /// <summary>The series cache (for tests).</summary>
    internal EncodedCache<SeriesKey> SeriesCache => _series;

    /// <summary>The field-key cache (for tests).</summary>
    internal EncodedCache<FieldKey> FieldKeyCache => _fieldKeys.Keys;

    /// <summary>Writes one point as one line (with its trailing newline), unless it has no writable field.</summary>
    /// <param name="point">The point.</param>
    /// <param name="output">Where the UTF-8 bytes go.</param>
    public LineProtocolStats Write(MetricPoint point, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(point);
        ArgumentNullException.ThrowIfNull(output);

        var fields = point.FieldSpan;
        var series = Series(point);
        if (series.IsEmpty)
        {
            return LineProtocol.Unwritable(fields);
        }

        var span = output.GetSpan(series.Length + GuessedFieldBytes * fields.Length);
        series.CopyTo(span);
        var length = LineProtocol.WriteFields(fields, point.TimestampUnixNs, span, series.Length, Options, _fieldKeys, out var skipped);
        if (length < 0)
        {
            span = output.GetSpan(series.Length + LineProtocol.FieldsBound(fields));
            series.CopyTo(span);
            length = LineProtocol.WriteFields(fields, point.TimestampUnixNs, span, series.Length, Options, _fieldKeys, out skipped);
        }

        return LineProtocol.Commit(length, skipped, output);
    }

    /// <summary>Writes a batch of points, one line each, in order.</summary>
    /// <param name="points">The points.</param>
    /// <param name="output">Where the UTF-8 bytes go.</param>
    public LineProtocolStats Write(IReadOnlyList<MetricPoint> points, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(points);
        var stats = default(LineProtocolStats);
        for (var i = 0; i < points.Count; i++)
        {
            stats += Write(points[i], output);
        }

        return stats;
    }

    // The measurement and tags as written (empty when the measurement has no form in line protocol): kept, or encoded into
    // the scratch buffer, which stays valid until the next call.
    private ReadOnlySpan<byte> Series(MetricPoint point)
    {
        var key = new SeriesKey(point.Measurement, point.TagArray);
        var kept = _series.Find(key, out var seen);
        if (kept is not null)
        {
            return kept;
        }

        var length = 0;
        if (!LineProtocol.IsUnwritable(point.Measurement))
        {
            var bound = LineProtocol.SeriesBound(point.Measurement, point.TagSpan);
            if (_scratch.Length < bound)
            {
                _scratch = new byte[Math.Max(bound, _scratch.Length * 2)];
            }

            length = LineProtocol.WriteSeries(point.Measurement, point.TagSpan, _scratch);
        }

        var encoded = _scratch.AsSpan(0, length);
        if (seen)
        {
            _series.Store(key, encoded.ToArray());
        }

        return encoded;
    }
}
