using System.IO.Compression;
using System.Net;
using System.Text;

namespace Kubebpf.Testing;

/// <summary>One request as <see cref="ScriptedHttpServer"/> read it, body included (as sent: still compressed).</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path without the query.</param>
/// <param name="Query">The query parameters (the first value of each).</param>
/// <param name="Headers">The request headers, names compared case-insensitively.</param>
/// <param name="Body">The body bytes.</param>
public sealed record ScriptedRequest(
    string Method, string Path, IReadOnlyDictionary<string, string> Query, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    /// <summary>A header's value, or null.</summary>
    public string? Header(string name) => Headers.GetValueOrDefault(name);

    /// <summary>The body as UTF-8 text, gunzipped when <c>Content-Encoding</c> says gzip.</summary>
    public string Text()
    {
        if (Header("Content-Encoding") != "gzip")
        {
            return Encoding.UTF8.GetString(Body);
        }

        using var gzip = new GZipStream(new MemoryStream(Body), CompressionMode.Decompress);
        using var text = new MemoryStream();
        gzip.CopyTo(text);
        return Encoding.UTF8.GetString(text.ToArray());
    }
}

/// <summary>What <see cref="ScriptedHttpServer"/> answers: a status, headers and an optional text body.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Body">The body, sent as UTF-8, or null for none.</param>
/// <param name="ContentType">The body's content type.</param>
public sealed record ScriptedAnswer(int Status, string? Body = null, string? ContentType = null)
{
    /// <summary>Further response headers (as <c>Retry-After</c>).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>This answer with one more header; itself when <paramref name="value"/> is null.</summary>
    public ScriptedAnswer WithHeader(string name, string? value) =>
        value is null ? this : this with { Headers = new Dictionary<string, string>(Headers) { [name] = value } };

    /// <summary>An answer with a JSON body.</summary>
    public static ScriptedAnswer Json(int status, string json, string contentType = "application/json") => new(status, json, contentType);
}

/// <summary>
/// The HTTP side of the fakes of remote services (InfluxDB, a Prometheus remote-write receiver): listens on a free
/// loopback port, reads each request whole and answers what the fake's <c>answer</c> function returns, one request at a
/// time, until disposed. The fake keeps only its protocol. A fake that throws answers 500 with the exception's message,
/// and the server goes on.
/// </summary>
public sealed class ScriptedHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<ScriptedRequest, ScriptedAnswer> _answer;
    private readonly Task _loop;

    /// <summary>Starts listening on a free port of 127.0.0.1.</summary>
    public ScriptedHttpServer(Func<ScriptedRequest, ScriptedAnswer> answer)
    {
        _answer = answer;
        Port = LoopbackPorts.Free();
        _listener.Prefixes.Add($"{Url}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>The port listened on.</summary>
    public int Port { get; }

    /// <summary>The base address, <c>http://127.0.0.1:port</c>, without a trailing slash.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Stops listening and waits (a few seconds at most) for the request being answered.</summary>
    public void Dispose()
    {
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
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
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // closed
            }

            try
            {
                await AnswerAsync(context);
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The client went away, or the server is closing: next request.
            }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var request = context.Request;
        using var body = new MemoryStream();
        await request.InputStream.CopyToAsync(body);
        var received = new ScriptedRequest(
            request.HttpMethod,
            request.Url!.AbsolutePath,
            request.QueryString.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => request.QueryString[k]!, StringComparer.Ordinal),
            request.Headers.AllKeys.ToDictionary(k => k!, k => request.Headers[k]!, StringComparer.OrdinalIgnoreCase),
            body.ToArray());

        ScriptedAnswer answer;
        try
        {
            answer = _answer(received);
        }
        catch (Exception ex)
        {
            // A broken fake answers 500: the test then fails on what the client saw, not on a hang.
            answer = new ScriptedAnswer(500, $"the fake failed: {ex.Message}", "text/plain");
        }

        var response = context.Response;
        response.StatusCode = answer.Status;
        foreach (var (name, value) in answer.Headers)
        {
            response.Headers[name] = value;
        }

        if (answer.Body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(answer.Body);
            response.ContentType = answer.ContentType;
            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes);
        }

        response.Close();
    }
}
