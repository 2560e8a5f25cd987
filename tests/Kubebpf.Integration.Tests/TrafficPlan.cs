using System.Globalization;
using System.Text.RegularExpressions;
using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>A request the client makes and the status the server is configured to answer.</summary>
public sealed record PlannedRequest(string Method, string Path, int Status)
{
    public override string ToString() => $"{Method} {Path} {Status}";
}

/// <summary>
/// A fixed mix of methods and statuses sent three ways: one connection per request, several requests on one kept-alive
/// connection, and requests pipelined in a single write. Each way's client-side outcome is checked as it runs.
/// </summary>
public static partial class TrafficPlan
{
    /// <summary>nginx locations answering the plan's statuses; anything else is 404.</summary>
    public const string NginxLocations = """
        location = /ok { return 200 "ok\n"; }
        location = /created { return 201 "created\n"; }
        location = /empty { return 204; }
        location = /fail { return 500 "fail\n"; }
        location = /busy { return 503 "busy\n"; }
        location / { return 404 "not found\n"; }
        """;

    public static readonly PlannedRequest[] OneConnectionEach =
    [
        new("GET", "/ok", 200), new("GET", "/missing", 404), new("POST", "/created", 201), new("PUT", "/ok", 200),
        new("DELETE", "/empty", 204), new("HEAD", "/ok", 200), new("OPTIONS", "/ok", 200), new("PATCH", "/fail", 500),
        new("GET", "/busy", 503),
    ];

    public static readonly PlannedRequest[] KeepAlive =
    [
        new("GET", "/ok", 200), new("GET", "/ok", 200), new("GET", "/empty", 204), new("POST", "/created", 201),
        new("GET", "/missing", 404), new("DELETE", "/busy", 503), new("HEAD", "/ok", 200), new("PUT", "/empty", 204),
        new("PATCH", "/ok", 200), new("OPTIONS", "/missing", 404),
    ];

    /// <summary>The last one asks the server to close, so the client reads until the end of the stream.</summary>
    public static readonly PlannedRequest[] Pipelined =
    [
        new("GET", "/ok", 200), new("GET", "/ok", 200), new("POST", "/created", 201), new("GET", "/missing", 404),
        new("DELETE", "/busy", 503),
    ];

    public static IReadOnlyList<PlannedRequest> All => [.. OneConnectionEach, .. KeepAlive, .. Pipelined];

    /// <summary>Sends the whole plan from <paramref name="client"/> to port 80 of <paramref name="host"/> (an IPv4 address or a bracketed IPv6 one).</summary>
    public static void Run(Pod client, string host, string workDirectory)
    {
        // One curl per request: every line of output is "<status> <new connections>".
        var fresh = NetworkPods.Exec(client, string.Join('\n', OneConnectionEach.Select(r => "curl " + CurlArguments(r, host))));
        Assert.Equal(OneConnectionEach.Select(r => $"{r.Status} 1"), Lines(fresh.Output));

        // One curl, one connection: --next keeps curl's connection cache, so all requests reuse the first connection.
        var kept = NetworkPods.Exec(client, "curl " + string.Join(" --next ", KeepAlive.Select(r => CurlArguments(r, host))));
        Assert.Equal(KeepAlive.Select((r, i) => $"{r.Status} {(i == 0 ? 1 : 0)}"), Lines(kept.Output));

        var script = Path.Combine(workDirectory, "pipeline.py");
        File.WriteAllText(script, PipelineScript);
        var pipelined = NetworkPods.Exec(client, $"python3 {script} {host.Trim('[', ']')} 80");
        Assert.Equal(Pipelined.Select(r => r.Status.ToString(CultureInfo.InvariantCulture)), StatusLine().Matches(pipelined.Output).Select(m => m.Groups[1].Value));
    }

    /// <summary>Requests as "METHOD path status", sorted: a multiset that compares with a readable diff.</summary>
    public static string[] Sorted(IEnumerable<PlannedRequest> requests) => [.. requests.Select(r => r.ToString()).Order(StringComparer.Ordinal)];

    private static string CurlArguments(PlannedRequest request, string host)
    {
        var method = request.Method switch
        {
            "GET" => "",
            "HEAD" => "--head", // -X HEAD would wait for a body that never comes
            "POST" or "PUT" or "PATCH" => $"-X {request.Method} --data-binary item=1",
            _ => $"-X {request.Method}",
        };
        return $"-gs -o /dev/null -w '%{{http_code}} %{{num_connects}}\\n' {method} http://{host}:80{request.Path}";
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    // All requests in one sendall (so in one segment), then every response until the server closes.
    private static string PipelineScript => $$"""
        import socket, sys
        requests = [{{string.Join(", ", Pipelined.Select((r, i) => PythonRequest(r, last: i == Pipelined.Length - 1)))}}]
        with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10) as s:
            s.sendall(b"".join(requests))
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        sys.stdout.write(data.decode("latin-1"))
        """;

    private static string PythonRequest(PlannedRequest request, bool last)
    {
        var body = request.Method is "POST" or "PUT" or "PATCH" ? "item=1" : "";
        var head = $"{request.Method} {request.Path} HTTP/1.1\\r\\nHost: server\\r\\n"
            + (body.Length > 0 ? $"Content-Length: {body.Length}\\r\\n" : "")
            + (last ? "Connection: close\\r\\n" : "");
        return $"b\"{head}\\r\\n{body}\"";
    }

    [GeneratedRegex(@"^HTTP/1\.1 (\d{3}) ", RegexOptions.Multiline)]
    private static partial Regex StatusLine();
}
