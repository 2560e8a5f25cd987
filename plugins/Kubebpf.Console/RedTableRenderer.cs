using Spectre.Console;
using Spectre.Console.Rendering;

namespace Kubebpf.Console;

/// <summary>Builds the header lines and the table of one R.E.D. window.</summary>
internal sealed class RedTableRenderer(int maxRows, TimeZoneInfo zone, bool asciiBorders)
{
    public IRenderable Render(RedWindow window, AgentLosses losses)
    {
        var series = window.Rows.Where(r => !r.IsRollup).ToList();
        // The roll-ups already sum each workload and direction; without them, the routes are the totals.
        var totals = window.Rows.Any(r => r.IsRollup) ? window.Rows.Where(r => r.IsRollup).ToList() : series;
        var rows = new List<IRenderable> { Header(window, series.Count, totals) };
        if (losses.Seen)
        {
            rows.Add(LossLine(losses));
        }

        if (series.Count == 0)
        {
            rows.Add(new Text(window.IsEmpty ? "waiting for the first R.E.D. window ..." : "no per-route series in this window"));
            return new Rows(rows);
        }

        var shown = series
            .OrderByDescending(r => r.Rate)
            .ThenBy(r => r.Workload, StringComparer.Ordinal)
            .ThenBy(r => r.Direction, StringComparer.Ordinal)
            .ThenBy(r => r.Method, StringComparer.Ordinal)
            .ThenBy(r => r.Route, StringComparer.Ordinal)
            .Take(maxRows)
            .ToList();
        rows.Add(Table(shown));
        if (series.Count > shown.Count)
        {
            rows.Add(new Text($"... {series.Count - shown.Count} more series not shown (MaxRows {maxRows})"));
        }

        return new Rows(rows);
    }

    private Text Header(RedWindow window, int seriesCount, List<RedRow> totals)
    {
        var requests = totals.Sum(r => r.Requests);
        var rate = totals.Sum(r => r.Rate);
        var errors4xx = totals.Sum(r => r.Errors4xx);
        var errors5xx = totals.Sum(r => r.Errors5xx);
        var when = window.IsEmpty ? "-" : Figures.Time(window.EndUnixNs, zone, "HH:mm:ss");
        var length = window.Seconds > 0 ? $" ({Figures.Number(window.Seconds)} s)" : "";
        return new Text(
            $"HTTP R.E.D. window ending {when}{length}  |  {seriesCount} series  |  {requests} requests, {Figures.Number(rate)} req/s  |  "
            + $"4xx {Figures.Percent(requests == 0 ? 0 : 100.0 * errors4xx / requests)}  |  5xx {Figures.Percent(requests == 0 ? 0 : 100.0 * errors5xx / requests)}",
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
        table.AddColumn("namespace/workload/pod");
        table.AddColumn("dir");
        table.AddColumn("method");
        table.AddColumn("route");
        foreach (var numeric in new[] { "req/s", "4xx %", "5xx %", "p50 ms", "p90 ms", "p99 ms" })
        {
            table.AddColumn(new TableColumn(numeric).RightAligned());
        }

        foreach (var row in rows)
        {
            table.AddRow(
                new Text(row.Workload),
                new Text(row.Direction),
                new Text(row.Method),
                new Text(row.Route),
                new Text(Figures.Number(row.Rate)),
                new Text(Figures.Percent(row.Percent4xx), row.Errors4xx > 0 ? new Style(Color.Yellow) : Style.Plain),
                new Text(Figures.Percent(row.Percent5xx), row.Errors5xx > 0 ? new Style(Color.Red) : Style.Plain),
                new Text(Figures.Number(row.P50Ms)),
                new Text(Figures.Number(row.P90Ms)),
                new Text(Figures.Number(row.P99Ms)));
        }

        return table;
    }
}
