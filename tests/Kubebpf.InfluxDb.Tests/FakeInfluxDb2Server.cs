using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>
/// A stand-in for InfluxDB 2.x's write endpoint (no 2.x server exists here) that checks the wire protocol as the real one
/// does: <c>POST /api/v2/write</c> with <c>org</c>, <c>bucket</c> and <c>precision</c>, <c>Authorization: Token &lt;token&gt;</c>
/// (else 401 with a JSON error), a text/plain body, gzip when <c>Content-Encoding</c> says so. Answers 204 unless told otherwise.
/// </summary>
internal sealed class FakeInfluxDb2Server : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<Action<HttpListenerResponse>> _answers = new();
    private readonly string _token;
    private readonly Task _loop;

    public FakeInfluxDb2Server(string token)
    {
        _token = token;
        var port = FreePort();
        Url = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string Url { get; }

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

    public void Dispose()
    {
        _listener.Close();
        _ = _loop.Exception;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            Handle(context.Request, context.Response);
            context.Response.Close();
        }
    }

    private void Handle(HttpListenerRequest request, HttpListenerResponse response)
    {
        var gzip = request.Headers["Content-Encoding"] == "gzip";
        using var body = new MemoryStream();
        using (var input = gzip ? new GZipStream(request.InputStream, CompressionMode.Decompress) : request.InputStream)
        {
            input.CopyTo(body);
        }

        var write = new ReceivedWrite(
            request.HttpMethod, request.Url!.AbsolutePath, request.QueryString["org"], request.QueryString["bucket"], request.QueryString["precision"],
            request.Headers["Authorization"], request.ContentType, gzip, Encoding.UTF8.GetString(body.ToArray()));
        Requests.Enqueue(write);

        if (write.Method != "POST" || write.Path != "/api/v2/write")
        {
            Error(response, 404, "not found", "path not found");
        }
        else if (write.Authorization != $"Token {_token}")
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

    private static void Error(HttpListenerResponse response, int status, string code, string message)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.OutputStream.Write(Encoding.UTF8.GetBytes($"{{\"code\":\"{code}\",\"message\":\"{message}\"}}"));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One request as the fake server saw it (body decompressed).</summary>
internal sealed record ReceivedWrite(
    string Method, string Path, string? Org, string? Bucket, string? Precision, string? Authorization, string? ContentType, bool Gzip, string Body);
