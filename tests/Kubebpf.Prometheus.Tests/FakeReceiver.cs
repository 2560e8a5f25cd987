using System.Collections.Concurrent;
using System.Globalization;
using Kubebpf.Testing;
using Snappier;

namespace Kubebpf.Prometheus.Tests;

/// <summary>One request the fake receiver got: its headers and the decoded series (null when the body did not decode).</summary>
internal sealed record ReceivedWrite(IReadOnlyDictionary<string, string> Headers, IReadOnlyList<DecodedSeries>? Series, string? DecodeError);

/// <summary>
/// A remote-write receiver on a free loopback port that decompresses (snappy) and decodes each request and answers
/// what <see cref="Answer"/> says (status and optional Retry-After), so that error paths can be driven exactly.
/// </summary>
internal sealed class FakeReceiver : IDisposable
{
    private readonly ScriptedHttpServer _server;

    public FakeReceiver() => _server = new ScriptedHttpServer(Serve);

    public int Port => _server.Port;

    public string Url => $"{_server.Url}/api/v1/write";

    /// <summary>Status and Retry-After seconds for the next requests; 204 without Retry-After by default.</summary>
    public Func<int, (int Status, int? RetryAfterSeconds)> Answer { get; set; } = _ => (204, null);

    public ConcurrentQueue<(DateTimeOffset At, int Status, ReceivedWrite Write)> Requests { get; } = new();

    public void Dispose() => _server.Dispose();

    private ScriptedAnswer Serve(ScriptedRequest request)
    {
        ReceivedWrite write;
        try
        {
            write = new ReceivedWrite(request.Headers, WriteRequestDecoder.Decode(Snappy.DecompressToArray(request.Body)), null);
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or ArgumentException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            write = new ReceivedWrite(request.Headers, null, ex.Message);
        }

        var (status, retryAfter) = Answer(Requests.Count);
        Requests.Enqueue((DateTimeOffset.UtcNow, status, write));
        return new ScriptedAnswer(status).WithHeader("Retry-After", retryAfter?.ToString(CultureInfo.InvariantCulture));
    }
}
