using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Console;

/// <summary>
/// The series of the newest R.E.D. window, of every protocol. Points of one window share its end timestamp (the R.E.D.
/// plugin flushes all protocols at once) and may arrive over several batches; a newer timestamp starts a new window, an
/// older one (a late batch) is ignored.
/// </summary>
internal sealed class RedWindow
{
    private readonly Dictionary<string, RedRow> _rows = new(StringComparer.Ordinal);

    public long EndUnixNs { get; private set; } = long.MinValue;

    /// <summary>The window length the producer reported (<c>window_s</c>), or 0 when it did not.</summary>
    public double Seconds { get; private set; }

    public bool IsEmpty => _rows.Count == 0;

    public IEnumerable<RedRow> Rows => _rows.Values;

    /// <summary>Adds a point; false when it belongs to an older window.</summary>
    public bool Add(MetricPoint point)
    {
        if (point.TimestampUnixNs < EndUnixNs)
        {
            return false;
        }

        if (point.TimestampUnixNs > EndUnixNs)
        {
            _rows.Clear();
            EndUnixNs = point.TimestampUnixNs;
            Seconds = 0;
        }

        Seconds = point.Field("window_s")?.AsDouble ?? Seconds;
        _rows[SeriesKey(point)] = RedRow.From(point);
        return true;
    }

    private static string SeriesKey(MetricPoint point) =>
        point.Measurement + '\u001f' + string.Join('\u001f', point.Tags.Select(t => $"{t.Key}={t.Value}"));
}
