using Spectre.Console;
using Spectre.Console.Rendering;

namespace Kubebpf.Console;

/// <summary>Builds the header lines and the table of one R.E.D. window, then the other measurements' latest values.</summary>
internal sealed class RedTableRenderer(int maxRows, TimeZoneInfo zone, bool asciiBorders)
{
    public IRenderable Render(RedWindow window, AgentLosses losses, OtherMeasurements others)
    {
        var series = window.Rows.Where(r => !r.IsRollup).ToList();
        // The roll-ups already sum each workload, direction and protocol; without them, the series are the totals.
        var totals = window.Rows.Any(r => r.IsRollup) ? window.Rows.Where(r => r.IsRollup).ToList() : series;
        var rows = new List<IRenderable> { Header(window, series.Count, totals) };
        if (losses.Seen)
        {
            rows.Add(LossLine(losses));
        }

        if (series.Count == 0)
        {
            rows.Add(new Text(window.IsEmpty ? "waiting for the first R.E.D. window ..." : "no per-resource series in this window"));
        }
        else
        {
            var shown = series
                .OrderByDescending(r => r.Rate)
                .ThenBy(r => r.Workload, StringComparer.Ordinal)
                .ThenBy(r => r.Direction, StringComparer.Ordinal)
                .ThenBy(r => r.Protocol, StringComparer.Ordinal)
                .ThenBy(r => r.Operation, StringComparer.Ordinal)
                .ThenBy(r => r.Resource, StringComparer.Ordinal)
                .Take(maxRows)
                .ToList();
            rows.Add(Table(shown));
            if (series.Count > shown.Count)
            {
                rows.Add(new Text($"... {series.Count - shown.Count} more series not shown (MaxRows {maxRows})"));
            }
        }

        if (!others.IsEmpty)
        {
            rows.Add(new Text("other measurements (latest point of each series):", new Style(decoration: Decoration.Bold)));
            rows.AddRange(others.Lines(zone).Select(line => new Text("  " + line)));
            if (others.PointsNotShown > 0)
            {
                rows.Add(new Text($"  ... {others.PointsNotShown} points of further series not shown (MaxOtherSeries {others.MaxSeries})"));
            }
        }

        return new Rows(rows);
    }

    private Text Header(RedWindow window, int seriesCount, List<RedRow> totals)
    {
        var requests = totals.Sum(r => r.Requests);
        var rate = totals.Sum(r => r.Rate);
        var clientErrors = totals.Sum(r => r.ClientErrors);
        var errors = totals.Sum(r => r.Errors);
        var when = window.IsEmpty ? "-" : Figures.Time(window.EndUnixNs, zone, "HH:mm:ss");
        var length = window.Seconds > 0 ? $" ({Figures.Number(window.Seconds)} s)" : "";
        return new Text(
            $"R.E.D. window ending {when}{length}  |  {seriesCount} series  |  {requests} requests, {Figures.Number(rate)} req/s  |  "
            + $"client errors {Figures.Percent(requests == 0 ? 0 : 100.0 * clientErrors / requests)}  |  "
            + $"errors {Figures.Percent(requests == 0 ? 0 : 100.0 * errors / requests)}",
            new Style(decoration: Decoration.Bold));
    }

    private static Text LossLine(AgentLosses losses)
    {
        var nonZero = losses.NonZero.ToList();
        return nonZero.Count == 0
            ? new Text("agent: no data lost")
            : new Text($"agent losses: {string.Join("  ", nonZero)}", new Style(Color.Red));
    }

    private Table Table(List<RedRow> rows)
    {
        var table = new Table().Border(asciiBorders ? TableBorder.Ascii : TableBorder.Rounded);
        foreach (var text in new[] { "namespace/workload/pod", "dir", "protocol", "operation", "resource" })
        {
            table.AddColumn(text);
        }

        foreach (var numeric in new[] { "req/s", "client err %", "error %", "p50 ms", "p90 ms", "p99 ms" })
        {
            table.AddColumn(new TableColumn(numeric).RightAligned());
        }

        foreach (var row in rows)
        {
            table.AddRow(
                new Text(row.Workload),
                new Text(row.Direction),
                new Text(row.Protocol),
                new Text(row.Operation),
                new Text(row.Resource),
                new Text(Figures.Number(row.Rate)),
                new Text(Figures.Percent(row.ClientErrorPercent), row.ClientErrors > 0 ? new Style(Color.Yellow) : Style.Plain),
                new Text(Figures.Percent(row.ErrorPercent), row.Errors > 0 ? new Style(Color.Red) : Style.Plain),
                new Text(Figures.Number(row.P50Ms)),
                new Text(Figures.Number(row.P90Ms)),
                new Text(Figures.Number(row.P99Ms)));
        }

        return table;
    }
}
