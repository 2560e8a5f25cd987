using System.Collections.Concurrent;
using Kubebpf.Testing;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>
/// A stand-in for an InfluxDB 1.x that chokes on some points, which no real server here does on demand. It answers as 1.6
/// does: <c>GET /ping</c> 204 with <c>X-Influxdb-Version</c>; <c>POST /query</c> 200 with a results body; <c>POST /write</c>
/// 204 for a body it takes, else 500 with <c>{"error": ...}</c> and <c>X-Influxdb-Error</c>, storing nothing of that body.
/// </summary>
internal sealed class FakeInfluxDb1Server : IDisposable
{
    private readonly Func<string, bool> _chokesOn;
    private readonly string _error;
    private readonly ScriptedHttpServer _server;
    private int _writes;
    private int _pings;

    public FakeInfluxDb1Server(Func<string, bool> chokesOn, string error = "engine: error writing WAL entry: unexpected EOF")
    {
        _chokesOn = chokesOn;
        _error = error;
        _server = new ScriptedHttpServer(Serve);
    }

    public string Url => _server.Url;

    /// <summary>Whether <c>/ping</c> answers 204; a 502 otherwise, as a proxy in front of a stopped server does.</summary>
    public volatile bool PingAnswers = true;

    /// <summary>Whether every write fails with a 500, as when the server's cache is full.</summary>
    public volatile bool FailsEveryWrite;

    /// <summary>Lines stored, in the order they were written.</summary>
    public ConcurrentQueue<string> Stored { get; } = new();

    public int Writes => _writes;

    public int Pings => _pings;

    public void Dispose() => _server.Dispose();

    private ScriptedAnswer Serve(ScriptedRequest request)
    {
        switch (request.Method, request.Path)
        {
            case ("GET" or "HEAD", "/ping"):
                Interlocked.Increment(ref _pings);
                return new ScriptedAnswer(PingAnswers ? 204 : 502).WithHeader("X-Influxdb-Version", "1.6.7~rc0");
            case ("POST", "/query"):
                return ScriptedAnswer.Json(200, "{\"results\":[{\"statement_id\":0}]}");
            case ("POST", "/write"):
                Interlocked.Increment(ref _writes);
                var lines = request.Text().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (FailsEveryWrite || lines.Any(_chokesOn))
                {
                    return ScriptedAnswer.Json(500, $"{{\"error\":\"{_error}\"}}").WithHeader("X-Influxdb-Error", _error);
                }

                foreach (var line in lines)
                {
                    Stored.Enqueue(line);
                }

                return new ScriptedAnswer(204);
            default:
                return ScriptedAnswer.Json(404, "{\"error\":\"not found\"}");
        }
    }
}
