using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Console.Tests;

/// <summary>Points shaped like the R.E.D. plugin's (for HTTP and for a protocol with the default names) and the host's.</summary>
internal static class Points
{
    // 2025-01-01 12:00:10 UTC
    public const long WindowEnd = 1_735_732_810_000_000_000;

    /// <summary>
    /// An <c>http_red</c> point, or with <paramref name="protocol"/> another's <c>&lt;protocol&gt;_red</c> with the default
    /// names; <paramref name="rcode"/> adds a status tag, as a protocol whose series are split by status writes.
    /// </summary>
    public static MetricPoint Red(string workload, string direction, string operation, string resource, long requests, double rate,
        long clientErrors = 0, long errors = 0, double p50 = 1, double p90 = 2, double p99 = 3, long at = WindowEnd, string protocol = "http",
        string? rcode = null)
    {
        var http = protocol == "http";
        return new($"{protocol}_red",
            [
                new("node", "node-1"), new("namespace", "shop"), new("workload_kind", "Deployment"), new("workload", workload),
                new("pod", $"{workload}-0"), new("direction", direction),
                new(http ? "method" : "operation", operation), new(http ? "route" : "resource", resource),
                .. rcode is null ? Array.Empty<Tag>() : [new Tag("rcode", rcode)],
            ],
            [
                new("requests", FieldValue.Integer(requests)), new("rate", FieldValue.Float(rate)),
                new(http ? "errors_4xx" : "client_errors", FieldValue.Integer(clientErrors)),
                new(http ? "errors_5xx" : "errors", FieldValue.Integer(errors)),
                new("error_rate", FieldValue.Float(requests == 0 ? 0 : (double)errors / requests)),
                new("client_error_rate", FieldValue.Float(requests == 0 ? 0 : (double)clientErrors / requests)),
                new("timeouts", FieldValue.Integer(0)),
                new("latency_p50_ms", FieldValue.Float(p50)), new("latency_p90_ms", FieldValue.Float(p90)),
                new("latency_p99_ms", FieldValue.Float(p99)), new("latency_max_ms", FieldValue.Float(p99 * 2)),
                new("latency_mean_ms", FieldValue.Float(p50)), new("window_s", FieldValue.Float(10)),
            ],
            at);
    }

    public static MetricPoint Agent(string component, params (string Name, long Value)[] counters) =>
        new("kubebpf_agent", [new("component", component)], [.. counters.Select(c => new Field(c.Name, FieldValue.Integer(c.Value)))], WindowEnd);

    /// <summary>An <c>http_requests</c> point.</summary>
    public static MetricPoint Call(string direction, string method, string path, int status, long durationNs, string? peer = null)
    {
        List<Tag> tags = [new("namespace", "shop"), new("workload", "api"), new("pod", "api-0"), new("direction", direction), new("method", method),
            new("status_class", $"{status / 100}xx")];
        if (peer is not null)
        {
            tags.Add(new("peer_namespace", "shop"));
            tags.Add(new("peer_workload", peer));
        }

        return new("http_requests", [.. tags],
            [
                new("path", FieldValue.String(path)), new("status", FieldValue.Integer(status)), new("duration_ns", FieldValue.Integer(durationNs)),
                new("client", FieldValue.String("10.1.0.5:51000")), new("server", FieldValue.String("10.1.0.2:8080")),
            ],
            WindowEnd + 123_000_000);
    }

    /// <summary>A <c>redis_requests</c> point of a protocol with the default names and no code.</summary>
    public static MetricPoint RedisCall(string command, string key, string status, long durationNs) =>
        new("redis_requests",
            [new("namespace", "shop"), new("workload", "api"), new("pod", "api-0"), new("direction", "out"), new("operation", command), new("status", status)],
            [new("resource", FieldValue.String(key)), new("duration_ns", FieldValue.Integer(durationNs)), new("db", FieldValue.Integer(0))],
            WindowEnd + 123_000_000);

    /// <summary>A point of a custom probe's measurement.</summary>
    public static MetricPoint Custom(string measurement, string tagValue, params Field[] fields) =>
        new(measurement, [new("pod", tagValue)], fields, WindowEnd);
}
