using System.Collections.Concurrent;
using Kubebpf.Testing;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>
/// A stand-in for InfluxDB 2.x's write endpoint (no 2.x server exists here) that checks the wire protocol as the real one
/// does: <c>POST /api/v2/write</c> with <c>org</c>, <c>bucket</c> and <c>precision</c>, <c>Authorization: Token &lt;token&gt;</c>
/// (else 401 with a JSON error), a text/plain body, gzip when <c>Content-Encoding</c> says so. Answers 204 unless told otherwise.
/// </summary>
internal sealed class FakeInfluxDb2Server : IDisposable
{
    private readonly string _token;
    private readonly ConcurrentQueue<ScriptedAnswer> _answers = new();
    private readonly ScriptedHttpServer _server;

    public FakeInfluxDb2Server(string token)
    {
        _token = token;
        _server = new ScriptedHttpServer(Serve);
    }

    public string Url => _server.Url;

    public ConcurrentQueue<ReceivedWrite> Requests { get; } = new();

    /// <summary>The next request gets this answer instead of 204 (if it passes the protocol checks).</summary>
    public void Answer(int status, string? json = null, string? retryAfter = null) => _answers.Enqueue(
        new ScriptedAnswer(status, json, json is null ? null : "application/json; charset=utf-8").WithHeader("Retry-After", retryAfter));

    public void Dispose() => _server.Dispose();

    private ScriptedAnswer Serve(ScriptedRequest request)
    {
        var write = new ReceivedWrite(
            request.Method, request.Path, request.Query.GetValueOrDefault("org"), request.Query.GetValueOrDefault("bucket"), request.Query.GetValueOrDefault("precision"),
            request.Header("Authorization"), request.Header("Content-Type"), request.Header("Content-Encoding") == "gzip", request.Text());
        Requests.Enqueue(write);

        if (write.Method != "POST" || write.Path != "/api/v2/write")
        {
            return Error(404, "not found", "path not found");
        }

        if (write.Authorization != $"Token {_token}")
        {
            return Error(401, "unauthorized", "unauthorized access");
        }

        if (string.IsNullOrEmpty(write.Org) || string.IsNullOrEmpty(write.Bucket))
        {
            return Error(400, "invalid", "organization and bucket are required");
        }

        if (write.Precision is not ("ns" or "us" or "ms" or "s"))
        {
            return Error(400, "invalid", $"invalid precision {write.Precision}");
        }

        return _answers.TryDequeue(out var answer) ? answer : new ScriptedAnswer(204);
    }

    private static ScriptedAnswer Error(int status, string code, string message) =>
        ScriptedAnswer.Json(status, $"{{\"code\":\"{code}\",\"message\":\"{message}\"}}");
}

/// <summary>One request as the fake server saw it (body decompressed).</summary>
internal sealed record ReceivedWrite(
    string Method, string Path, string? Org, string? Bucket, string? Precision, string? Authorization, string? ContentType, bool Gzip, string Body);
