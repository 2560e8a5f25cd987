using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>Runs the PromQL dashboards in <c>deploy/grafana/dashboards-prometheus</c> against a real Prometheus.</summary>
internal static class PromQlDashboards
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Every query of <paramref name="dashboard"/> (a file name), with Grafana's variables set to "All" (and
    /// <c>$__rate_interval</c> to 1 m, <c>$__range</c> to 10 m), answers at least one series; a <c>label_values</c>
    /// variable is asked as <c>count by (label) (selector)</c>. Returns the answers by query name.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<PromSample>>> AssertAnswerAsync(PrometheusServer prometheus, string dashboard)
    {
        var json = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "dashboards-prometheus", dashboard));
        var variables = new Dictionary<string, string?>
        {
            ["namespace"] = null, ["workload"] = null, ["pod"] = null, ["direction"] = null, ["node"] = null,
            ["__rate_interval"] = "1m", ["__range"] = "10m",
        };
        var answers = new Dictionary<string, IReadOnlyList<PromSample>>();
        foreach (var (name, query) in GrafanaQuery.PromQlQueries(json))
        {
            var promQl = GrafanaQuery.Substitute(LabelValuesAsCount(query), variables, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow, "10s");
            answers[name] = await prometheus.WaitForAsync(promQl, answer => answer.Count > 0, $"data for {dashboard} {name}", Deadline);
        }

        return answers;
    }

    private static string LabelValuesAsCount(string query)
    {
        const string prefix = "label_values(";
        if (!query.StartsWith(prefix, StringComparison.Ordinal))
        {
            return query;
        }

        var arguments = query[prefix.Length..^1];
        var comma = arguments.LastIndexOf(',');
        return $"count by ({arguments[(comma + 1)..].Trim()}) ({arguments[..comma]})";
    }
}
