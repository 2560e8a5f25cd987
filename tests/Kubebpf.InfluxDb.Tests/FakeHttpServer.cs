using System.IO.Compression;
using System.Net;
using System.Text;
using Kubebpf.Testing;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>An HTTP listener on a free loopback port that answers each request, one at a time, through <see cref="Handle"/>.</summary>
internal abstract class FakeHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    protected FakeHttpServer()
    {
        Url = $"http://127.0.0.1:{LoopbackPorts.Free()}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string Url { get; }

    public void Dispose()
    {
        _listener.Close();
        _ = _loop.Exception;
    }

    protected abstract void Handle(HttpListenerRequest request, HttpListenerResponse response);

    /// <summary>The request body as text, gunzipped when <c>Content-Encoding</c> says so.</summary>
    protected static string ReadBody(HttpListenerRequest request)
    {
        using var body = new MemoryStream();
        using (var input = request.Headers["Content-Encoding"] == "gzip" ? new GZipStream(request.InputStream, CompressionMode.Decompress) : request.InputStream)
        {
            input.CopyTo(body);
        }

        return Encoding.UTF8.GetString(body.ToArray());
    }

    protected static void Json(HttpListenerResponse response, int status, string json)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.OutputStream.Write(Encoding.UTF8.GetBytes(json));
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
}
