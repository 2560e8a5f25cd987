using System.Collections.Concurrent;
using System.Net;
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
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public FakeReceiver()
    {
        Port = LoopbackPorts.Free();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/api/v1/write";

    /// <summary>Status and Retry-After seconds for the next requests; 204 without Retry-After by default.</summary>
    public Func<int, (int Status, int? RetryAfterSeconds)> Answer { get; set; } = _ => (204, null);

    public ConcurrentQueue<(DateTimeOffset At, int Status, ReceivedWrite Write)> Requests { get; } = new();

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // stopped while waiting for a request
        }
    }

    private async Task LoopAsync()
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

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var headers = context.Request.Headers.AllKeys.ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
            ReceivedWrite write;
            try
            {
                write = new ReceivedWrite(headers, WriteRequestDecoder.Decode(Snappy.DecompressToArray(body.ToArray())), null);
            }
            catch (Exception ex) when (ex is FormatException or InvalidDataException or ArgumentException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                write = new ReceivedWrite(headers, null, ex.Message);
            }

            var (status, retryAfter) = Answer(Requests.Count);
            Requests.Enqueue((DateTimeOffset.UtcNow, status, write));
            context.Response.StatusCode = status;
            if (retryAfter is { } seconds)
            {
                context.Response.AddHeader("Retry-After", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            context.Response.Close();
        }
    }
}
