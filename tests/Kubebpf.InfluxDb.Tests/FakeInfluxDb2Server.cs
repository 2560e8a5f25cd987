using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>
/// A stand-in for InfluxDB 2.x's write endpoint (no 2.x server exists here) that checks the wire protocol as the real one
/// does: <c>POST /api/v2/write</c> with <c>org</c>, <c>bucket</c> and <c>precision</c>, <c>Authorization: Token &lt;token&gt;</c>
/// (else 401 with a JSON error), a text/plain body, gzip when <c>Content-Encoding</c> says so. Answers 204 unless told otherwise.
/// </summary>
internal sealed class FakeInfluxDb2Server(string token) : FakeHttpServer
{
    private readonly ConcurrentQueue<Action<HttpListenerResponse>> _answers = new();

    public ConcurrentQueue<ReceivedWrite> Requests { get; } = new();

    /// <summary>The next request gets this answer instead of 204 (if it passes the protocol checks).</summary>
    public void Answer(int status, string? json = null, string? retryAfter = null) => _answers.Enqueue(response =>
    {
        response.StatusCode = status;
        if (retryAfter is not null)
        {
            response.Headers["Retry-After"] = retryAfter;
        }

        if (json is not null)
        {
            response.ContentType = "application/json; charset=utf-8";
            var bytes = Encoding.UTF8.GetBytes(json);
            response.OutputStream.Write(bytes);
        }
    });

    protected override void Handle(HttpListenerRequest request, HttpListenerResponse response)
    {
        var gzip = request.Headers["Content-Encoding"] == "gzip";
        var write = new ReceivedWrite(
            request.HttpMethod, request.Url!.AbsolutePath, request.QueryString["org"], request.QueryString["bucket"], request.QueryString["precision"],
            request.Headers["Authorization"], request.ContentType, gzip, ReadBody(request));
        Requests.Enqueue(write);

        if (write.Method != "POST" || write.Path != "/api/v2/write")
        {
            Error(response, 404, "not found", "path not found");
        }
        else if (write.Authorization != $"Token {token}")
        {
            Error(response, 401, "unauthorized", "unauthorized access");
        }
        else if (string.IsNullOrEmpty(write.Org) || string.IsNullOrEmpty(write.Bucket))
        {
            Error(response, 400, "invalid", "organization and bucket are required");
        }
        else if (write.Precision is not ("ns" or "us" or "ms" or "s"))
        {
            Error(response, 400, "invalid", $"invalid precision {write.Precision}");
        }
        else if (_answers.TryDequeue(out var answer))
        {
            answer(response);
        }
        else
        {
            response.StatusCode = 204;
        }
    }

    private static void Error(HttpListenerResponse response, int status, string code, string message) =>
        Json(response, status, $"{{\"code\":\"{code}\",\"message\":\"{message}\"}}");
}

/// <summary>One request as the fake server saw it (body decompressed).</summary>
internal sealed record ReceivedWrite(
    string Method, string Path, string? Org, string? Bucket, string? Precision, string? Authorization, string? ContentType, bool Gzip, string Body);
