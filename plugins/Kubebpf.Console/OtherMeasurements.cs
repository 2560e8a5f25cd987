using System.Globalization;
using System.Text;
using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Console;

/// <summary>
/// The latest point of each series (measurement and tags) that is neither R.E.D., call log nor the agent's own, so
/// that a plugin author sees what their probe writes. Bounded: series beyond <c>maxSeries</c> are not kept, only
/// their points counted.
/// </summary>
internal sealed class OtherMeasurements(int maxSeries)
{
    // Long texts (a query, a path) would wrap the line; the start tells what it is.
    private const int MaxText = 40;

    private readonly SortedDictionary<string, MetricPoint> _latest = new(StringComparer.Ordinal);

    /// <summary>Whether a point arrived since the last <see cref="Lines"/>.</summary>
    public bool Changed { get; private set; }

    /// <summary>Points of series beyond the bound, since start.</summary>
    public long PointsNotShown { get; private set; }

    public int MaxSeries => maxSeries;

    public bool IsEmpty => _latest.Count == 0 && PointsNotShown == 0;

    public void Add(MetricPoint point)
    {
        if (maxSeries == 0)
        {
            return;
        }

        Changed = true;
        var key = point.Measurement + ' ' + string.Join(',', point.Tags.Select(t => $"{t.Key}={t.Value}"));
        if (_latest.Count < maxSeries || _latest.ContainsKey(key))
        {
            _latest[key] = point;
        }
        else
        {
            PointsNotShown++;
        }
    }

    /// <summary>One line per series, sorted: <c>series  field=value ...  (time)</c>; clears <see cref="Changed"/>.</summary>
    public IReadOnlyList<string> Lines(TimeZoneInfo zone)
    {
        Changed = false;
        var lines = new List<string>(_latest.Count);
        foreach (var (series, point) in _latest)
        {
            var line = new StringBuilder(series).Append(' ');
            foreach (var field in point.Fields)
            {
                line.Append(' ').Append(field.Key).Append('=').Append(Value(field.Value));
            }

            lines.Add(line.Append("  (").Append(Figures.Time(point.TimestampUnixNs, zone, "HH:mm:ss")).Append(')').ToString());
        }

        return lines;
    }

    private static string Value(FieldValue value) => value.Kind switch
    {
        FieldKind.Float => Figures.Number(value.AsDouble),
        FieldKind.Integer => value.AsLong.ToString(CultureInfo.InvariantCulture),
        FieldKind.UInteger => value.AsULong.ToString(CultureInfo.InvariantCulture),
        FieldKind.Boolean => value.AsBool ? "true" : "false",
        _ => '"' + (value.AsString.Length <= MaxText ? value.AsString : value.AsString[..MaxText] + "...") + '"',
    };
}
