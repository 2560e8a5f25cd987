using System.Globalization;
using System.Text;

namespace Kubebpf.ServiceMap.Rendering;

/// <summary>A <see cref="MapDocument"/> as a terminal table, a Graphviz DOT graph or a Mermaid flowchart.</summary>
internal static class MapRenderer
{
    public static readonly string[] Formats = ["text", "dot", "mermaid", "json"];

    public static string Render(MapDocument map, string format, DateTimeOffset now) => format switch
    {
        "dot" => Dot(map),
        "mermaid" => Mermaid(map),
        "json" => map.ToJson(),
        _ => Text(map, now),
    };

    public static string Text(MapDocument map, DateTimeOffset now)
    {
        var text = new StringBuilder();
        var since = DateTimeOffset.FromUnixTimeMilliseconds(map.SinceUnixMs).ToLocalTime();
        var age = now - DateTimeOffset.FromUnixTimeMilliseconds(map.UpdatedUnixMs);
        text.AppendLine(CultureInfo.InvariantCulture, $"Service map of node {map.Node} since {since:HH:mm:ss} (updated {Math.Max(age.TotalSeconds, 0):0} s ago): {map.Nodes.Count} nodes, {map.Edges.Count} edges");
        if (map.Edges.Count == 0)
        {
            text.AppendLine("No call or connection seen yet.");
            return text.ToString();
        }

        var width = Math.Max(12, map.Edges.Max(e => Math.Max(e.Source.Length, e.Target.Length)));
        text.AppendLine(CultureInfo.InvariantCulture, $"{"SOURCE".PadRight(width)}    {"TARGET".PadRight(width)} {"CALLS",8} {"ERRORS",7} {"MEAN",9} {"CONNECTS",9} {"FAILED",7} {"BYTES",9} {"OPEN",5}");
        foreach (var edge in map.Edges)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{edge.Source.PadRight(width)} -> {edge.Target.PadRight(width)} {edge.Requests,8} {edge.Errors,7} {(edge.Requests == 0 ? "-" : $"{edge.MeanDurationMs:0.0} ms"),9} {edge.Connects,9} {edge.FailedConnects,7} {Bytes(edge.Bytes),9} {edge.Active,5}");
        }

        return text.ToString();
    }

    public static string Dot(MapDocument map)
    {
        var text = new StringBuilder();
        text.AppendLine("digraph service_map {");
        text.AppendLine("  rankdir=LR;");
        text.AppendLine("  node [shape=box, style=rounded, fontname=\"Helvetica\"];");
        foreach (var node in map.Nodes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {Quote(node.Id)} [label={Quote($"{node.Title}\n{node.Subtitle}")}];");
        }

        foreach (var edge in map.Edges)
        {
            var failing = edge.Errors > 0 || edge.FailedConnects > 0;
            text.AppendLine(CultureInfo.InvariantCulture, $"  {Quote(edge.Source)} -> {Quote(edge.Target)} [label={Quote(Label(edge))}{(failing ? ", color=red, fontcolor=red" : "")}];");
        }

        text.AppendLine("}");
        return text.ToString();
    }

    public static string Mermaid(MapDocument map)
    {
        var ids = map.Nodes.Select((n, i) => (n.Id, Key: $"n{i}")).ToDictionary(n => n.Id, n => n.Key, StringComparer.Ordinal);
        var text = new StringBuilder();
        text.AppendLine("flowchart LR");
        foreach (var node in map.Nodes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {ids[node.Id]}[\"{Escape(node.Title)}<br/><small>{Escape(node.Subtitle)}</small>\"]");
        }

        var index = 0;
        var failing = new List<int>();
        foreach (var edge in map.Edges)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {ids[edge.Source]} -->|\"{Escape(Label(edge))}\"| {ids[edge.Target]}");
            if (edge.Errors > 0 || edge.FailedConnects > 0)
            {
                failing.Add(index);
            }

            index++;
        }

        if (failing.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  linkStyle {string.Join(',', failing)} stroke:red,color:red");
        }

        return text.ToString();
    }

    private static string Label(MapDocumentEdge edge)
    {
        var parts = new List<string>();
        if (edge.Requests > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{edge.Requests} calls, {edge.Errors} errors, {edge.MeanDurationMs:0.0} ms"));
        }

        if (edge.Connects + edge.FailedConnects > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{edge.Connects} connects{(edge.FailedConnects > 0 ? $", {edge.FailedConnects} failed" : "")}, {Bytes(edge.Bytes)}"));
        }

        return string.Join("; ", parts);
    }

    private static string Bytes(long bytes) => bytes switch
    {
        < 1_000 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e3:0.#} kB"),
        < 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:0.#} GB"),
    };

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";

    private static string Escape(string value) => value.Replace("\"", "#quot;", StringComparison.Ordinal);
}
