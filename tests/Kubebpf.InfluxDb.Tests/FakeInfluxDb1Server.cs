using System.Collections.Concurrent;
using System.Net;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>
/// A stand-in for an InfluxDB 1.x that chokes on some points, which no real server here does on demand. It answers as 1.6
/// does: <c>GET /ping</c> 204 with <c>X-Influxdb-Version</c>; <c>POST /query</c> 200 with a results body; <c>POST /write</c>
/// 204 for a body it takes, else 500 with <c>{"error": ...}</c> and <c>X-Influxdb-Error</c>, storing nothing of that body.
/// </summary>
internal sealed class FakeInfluxDb1Server(Func<string, bool> chokesOn, string error = "engine: error writing WAL entry: unexpected EOF") : FakeHttpServer
{
    /// <summary>Whether <c>/ping</c> answers 204; a 502 otherwise, as a proxy in front of a stopped server does.</summary>
    public volatile bool PingAnswers = true;

    /// <summary>Whether every write fails with a 500, as when the server's cache is full.</summary>
    public volatile bool FailsEveryWrite;

    /// <summary>Lines stored, in the order they were written.</summary>
    public ConcurrentQueue<string> Stored { get; } = new();

    public int Writes => _writes;

    public int Pings => _pings;

    private int _writes;
    private int _pings;

    protected override void Handle(HttpListenerRequest request, HttpListenerResponse response)
    {
        switch (request.HttpMethod, request.Url!.AbsolutePath)
        {
            case ("GET" or "HEAD", "/ping"):
                Interlocked.Increment(ref _pings);
                response.Headers["X-Influxdb-Version"] = "1.6.7~rc0";
                response.StatusCode = PingAnswers ? 204 : 502;
                break;
            case ("POST", "/query"):
                Json(response, 200, "{\"results\":[{\"statement_id\":0}]}");
                break;
            case ("POST", "/write"):
                Interlocked.Increment(ref _writes);
                var lines = ReadBody(request).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (FailsEveryWrite || lines.Any(chokesOn))
                {
                    response.Headers["X-Influxdb-Error"] = error;
                    Json(response, 500, $"{{\"error\":\"{error}\"}}");
                }
                else
                {
                    foreach (var line in lines)
                    {
                        Stored.Enqueue(line);
                    }

                    response.StatusCode = 204;
                }

                break;
            default:
                Json(response, 404, "{\"error\":\"not found\"}");
                break;
        }
    }
}
