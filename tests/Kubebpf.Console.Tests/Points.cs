using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Console.Tests;

/// <summary>Points shaped like the R.E.D. plugin's and the host's.</summary>
internal static class Points
{
    // 2025-01-01 12:00:10 UTC
    public const long WindowEnd = 1_735_732_810_000_000_000;

    public static MetricPoint Red(string workload, string direction, string method, string route, long requests, double rate,
        long errors4xx = 0, long errors5xx = 0, double p50 = 1, double p90 = 2, double p99 = 3, long at = WindowEnd) =>
        new("http_red",
            [
                new("node", "node-1"), new("namespace", "shop"), new("workload_kind", "Deployment"), new("workload", workload),
                new("pod", $"{workload}-0"), new("direction", direction), new("method", method), new("route", route),
            ],
            [
                new("requests", FieldValue.Integer(requests)), new("rate", FieldValue.Float(rate)),
                new("errors_4xx", FieldValue.Integer(errors4xx)), new("errors_5xx", FieldValue.Integer(errors5xx)),
                new("error_rate", FieldValue.Float(requests == 0 ? 0 : (double)errors5xx / requests)),
                new("latency_p50_ms", FieldValue.Float(p50)), new("latency_p90_ms", FieldValue.Float(p90)),
                new("latency_p99_ms", FieldValue.Float(p99)), new("latency_max_ms", FieldValue.Float(p99 * 2)),
                new("latency_mean_ms", FieldValue.Float(p50)), new("window_s", FieldValue.Float(10)),
            ],
            at);

    public static MetricPoint Agent(string component, params (string Name, long Value)[] counters) =>
        new("kubebpf_agent", [new("component", component)], [.. counters.Select(c => new Field(c.Name, FieldValue.Integer(c.Value)))], WindowEnd);

    public static MetricPoint Call(string direction, string method, string path, int status, long durationNs, string? peer = null)
    {
        List<Tag> tags = [new("namespace", "shop"), new("workload", "api"), new("pod", "api-0"), new("direction", direction), new("method", method)];
        if (peer is not null)
        {
            tags.Add(new("peer_namespace", "shop"));
            tags.Add(new("peer_workload", peer));
        }

        return new("http_requests", [.. tags],
            [new("path", FieldValue.String(path)), new("status", FieldValue.Integer(status)), new("duration_ns", FieldValue.Integer(durationNs))],
            WindowEnd + 123_000_000);
    }
}
