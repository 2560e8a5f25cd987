using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kubebpf.Testing;

/// <summary>A dashboard's InfluxQL queries with Grafana's variables substituted the way Grafana's InfluxDB data source does.</summary>
public static partial class GrafanaQuery
{
    /// <summary>Every panel target's raw query and every query variable's query, by a readable name.</summary>
    public static IReadOnlyList<(string Name, string Query)> Queries(string dashboardJson)
    {
        using var document = JsonDocument.Parse(dashboardJson);
        var root = document.RootElement;
        var queries = new List<(string, string)>();
        foreach (var variable in root.GetProperty("templating").GetProperty("list").EnumerateArray().Where(v => v.GetProperty("type").GetString() == "query"))
        {
            queries.Add(($"variable {variable.GetProperty("name").GetString()}", variable.GetProperty("query").GetString()!));
        }

        foreach (var panel in root.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                queries.Add(($"panel '{panel.GetProperty("title").GetString()}' {target.GetProperty("refId").GetString()}", target.GetProperty("query").GetString()!));
            }
        }

        return queries;
    }

    /// <summary>
    /// The PromQL of a dashboard for a Prometheus data source: every panel target's <c>expr</c> and every query variable's
    /// query (<c>label_values(...)</c>), by a readable name.
    /// </summary>
    public static IReadOnlyList<(string Name, string Query)> PromQlQueries(string dashboardJson)
    {
        using var document = JsonDocument.Parse(dashboardJson);
        var root = document.RootElement;
        var queries = new List<(string, string)>();
        foreach (var variable in root.GetProperty("templating").GetProperty("list").EnumerateArray().Where(v => v.GetProperty("type").GetString() == "query"))
        {
            var query = variable.GetProperty("query");
            var text = query.ValueKind == JsonValueKind.Object ? query.GetProperty("query").GetString()! : query.GetString()!;
            queries.Add(($"variable {variable.GetProperty("name").GetString()}", text));
        }

        foreach (var panel in root.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                queries.Add(($"panel '{panel.GetProperty("title").GetString()}' {target.GetProperty("refId").GetString()}", target.GetProperty("expr").GetString()!));
            }
        }

        return queries;
    }

    /// <summary>
    /// Substitutes <c>$timeFilter</c> (<c>time &gt;= Xms and time &lt;= Yms</c>), <c>$__interval</c>, <c>${name:regex}</c>
    /// (regex-escaped, as Grafana's regex format) and <c>$name</c> / <c>${name}</c>; a value of <c>null</c> stands for
    /// "All", which these dashboards define as <c>.*</c>.
    /// </summary>
    public static string Substitute(string query, IReadOnlyDictionary<string, string?> variables, DateTimeOffset from, DateTimeOffset to, string interval)
    {
        var text = query
            .Replace("$timeFilter", $"time >= {from.ToUnixTimeMilliseconds()}ms and time <= {to.ToUnixTimeMilliseconds()}ms", StringComparison.Ordinal)
            .Replace("$__interval", interval, StringComparison.Ordinal);
        return VariablePattern().Replace(text, match =>
        {
            var name = match.Groups["braced"].Success ? match.Groups["braced"].Value : match.Groups["plain"].Value;
            if (!variables.TryGetValue(name, out var value))
            {
                throw new KeyNotFoundException($"the query uses ${name}, which the test does not set: {query}");
            }

            return value is null ? ".*" : match.Groups["format"].Value == "regex" ? EscapeRegex(value) : value;
        });
    }

    private static string EscapeRegex(string value) => RegexSpecials().Replace(value, @"\$0");

    [GeneratedRegex(@"\$\{(?<braced>[A-Za-z_]+)(:(?<format>[a-z]+))?\}|\$(?<plain>[A-Za-z_]+)")]
    private static partial Regex VariablePattern();

    [GeneratedRegex(@"[\\^$*+?.()|\[\]{}/]")]
    private static partial Regex RegexSpecials();
}
