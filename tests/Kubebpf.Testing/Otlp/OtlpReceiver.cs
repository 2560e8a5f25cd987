using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Kubebpf.Testing.Otlp.Proto;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Testing.Otlp;

/// <summary>The two OTLP transports.</summary>
public enum OtlpTransport
{
    Grpc,
    HttpProtobuf,
}

/// <summary>How the receiver answers an export: accept all, accept all but some items, or refuse with a status.</summary>
/// <param name="Status">HTTP status (gRPC: 429 and 503 become UNAVAILABLE, other errors INVALID_ARGUMENT).</param>
/// <param name="RetryAfterSeconds">The <c>Retry-After</c> header of a refusal, or null.</param>
/// <param name="Rejected">Items reported rejected in a partial success (with status 200).</param>
public sealed record ReceiverAnswer(int Status, int? RetryAfterSeconds = null, long Rejected = 0)
{
    public static ReceiverAnswer Ok { get; } = new(200);

    public bool Accepts => Status == 200;
}

/// <summary>
/// An OTLP receiver for tests, on Kestrel: OTLP/gRPC (<c>MetricsService/Export</c>, <c>LogsService/Export</c>, HTTP/2
/// cleartext) on one port and OTLP/HTTP protobuf (<c>/v1/metrics</c>, <c>/v1/logs</c>) on another. It decodes the real
/// protobuf messages, keeps the accepted ones, and can refuse (400, 429/503 with <c>Retry-After</c>), answer a partial
/// success, or be stopped for a while and started again on the same ports.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private const string MetricsGrpcPath = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    private const string LogsGrpcPath = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

    private readonly ConcurrentQueue<(OtlpTransport Transport, ExportMetricsServiceRequest Request)> _metrics = new();
    private readonly ConcurrentQueue<(OtlpTransport Transport, ExportLogsServiceRequest Request)> _logs = new();
    private readonly Lock _answerGate = new();
    private ReceiverAnswer _answer = ReceiverAnswer.Ok;
    private int _answerTimes;
    private long _refused;
    private long _requests;
    private WebApplication? _app;
    private IReadOnlyDictionary<string, string> _lastHeaders = new Dictionary<string, string>();

    private OtlpReceiver()
    {
    }

    public int GrpcPort { get; private set; }

    public int HttpPort { get; private set; }

    /// <summary>The base address of OTLP/gRPC (as <c>http://host:4317</c>).</summary>
    public string GrpcEndpoint => $"http://127.0.0.1:{GrpcPort}";

    /// <summary>The base address of OTLP/HTTP (as <c>http://host:4318</c>; the signal paths are appended by the client).</summary>
    public string HttpEndpoint => $"http://127.0.0.1:{HttpPort}";

    public string Endpoint(OtlpTransport transport) => transport == OtlpTransport.Grpc ? GrpcEndpoint : HttpEndpoint;

    /// <summary>Every accepted metrics request (including partial successes), in arrival order.</summary>
    public IReadOnlyList<(OtlpTransport Transport, ExportMetricsServiceRequest Request)> MetricRequests => [.. _metrics];

    /// <summary>Every accepted logs request (including partial successes), in arrival order.</summary>
    public IReadOnlyList<(OtlpTransport Transport, ExportLogsServiceRequest Request)> LogRequests => [.. _logs];

    /// <summary>Export requests refused (any status but 200).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Export requests received, whatever the answer.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>The headers of the last export request.</summary>
    public IReadOnlyDictionary<string, string> LastHeaders => Volatile.Read(ref _lastHeaders);

    public static async Task<OtlpReceiver> StartAsync()
    {
        var receiver = new OtlpReceiver();
        await receiver.StartAgainAsync();
        return receiver;
    }

    /// <summary>Answers the next <paramref name="times"/> requests (every one when null) with <paramref name="answer"/>, then accepts again.</summary>
    public void Answer(ReceiverAnswer answer, int? times = null)
    {
        lock (_answerGate)
        {
            _answer = answer;
            _answerTimes = times ?? -1;
        }
    }

    /// <summary>Stops listening: clients get connection refused until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Starts listening (on the same ports after a stop; free ones the first time).</summary>
    public async Task StartAgainAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, GrpcPort, l => l.Protocols = HttpProtocols.Http2);
            kestrel.Listen(IPAddress.Loopback, HttpPort, l => l.Protocols = HttpProtocols.Http1);
        });
        var app = builder.Build();
        app.MapPost(MetricsGrpcPath, context => ServeAsync(context, OtlpTransport.Grpc, ExportMetricsServiceRequest.Parser, r => _metrics.Enqueue((OtlpTransport.Grpc, r)), Metrics));
        app.MapPost(LogsGrpcPath, context => ServeAsync(context, OtlpTransport.Grpc, ExportLogsServiceRequest.Parser, r => _logs.Enqueue((OtlpTransport.Grpc, r)), Logs));
        app.MapPost("/v1/metrics", context => ServeAsync(context, OtlpTransport.HttpProtobuf, ExportMetricsServiceRequest.Parser, r => _metrics.Enqueue((OtlpTransport.HttpProtobuf, r)), Metrics));
        app.MapPost("/v1/logs", context => ServeAsync(context, OtlpTransport.HttpProtobuf, ExportLogsServiceRequest.Parser, r => _logs.Enqueue((OtlpTransport.HttpProtobuf, r)), Logs));
        await app.StartAsync();
        var ports = app.Urls.Select(u => new Uri(u).Port).ToArray();
        if (GrpcPort == 0)
        {
            // Kestrel lists its endpoints in the order they were configured.
            (GrpcPort, HttpPort) = (ports[0], ports[1]);
        }

        _app = app;

        static IMessage Metrics(long rejected) => new ExportMetricsServiceResponse
        {
            PartialSuccess = rejected > 0 ? new ExportMetricsPartialSuccess { RejectedDataPoints = rejected, ErrorMessage = "rejected by the test" } : null,
        };

        static IMessage Logs(long rejected) => new ExportLogsServiceResponse
        {
            PartialSuccess = rejected > 0 ? new ExportLogsPartialSuccess { RejectedLogRecords = rejected, ErrorMessage = "rejected by the test" } : null,
        };
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private ReceiverAnswer NextAnswer()
    {
        lock (_answerGate)
        {
            var answer = _answer;
            if (_answerTimes > 0 && --_answerTimes == 0)
            {
                _answer = ReceiverAnswer.Ok;
            }

            return answer;
        }
    }

    private async Task ServeAsync<T>(HttpContext context, OtlpTransport transport, MessageParser<T> parser, Action<T> keep, Func<long, IMessage> response)
        where T : IMessage<T>
    {
        Interlocked.Increment(ref _requests);
        Volatile.Write(ref _lastHeaders, context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()));
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var grpc = transport == OtlpTransport.Grpc;
        if (grpc && (body.Length < 5 || body[0] != 0 || BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1)) != body.Length - 5))
        {
            throw new InvalidDataException("Not one uncompressed gRPC message.");
        }

        var request = parser.ParseFrom(grpc ? body.AsSpan(5) : body); // a malformed message fails the request and the test
        var answer = NextAnswer();
        if (!answer.Accepts)
        {
            Interlocked.Increment(ref _refused);
            await RefuseAsync(context, answer, grpc);
            return;
        }

        keep(request);
        var payload = response(answer.Rejected).ToByteArray();
        if (!grpc)
        {
            context.Response.ContentType = "application/x-protobuf";
            await context.Response.Body.WriteAsync(payload);
            return;
        }

        context.Response.ContentType = "application/grpc";
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame, 5);
        await context.Response.Body.WriteAsync(frame);
        context.Response.AppendTrailer("grpc-status", "0");
    }

    private static async Task RefuseAsync(HttpContext context, ReceiverAnswer answer, bool grpc)
    {
        if (answer.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (!grpc)
        {
            context.Response.StatusCode = answer.Status;
            return;
        }

        // Trailers-only: the status rides in the headers of an empty 200 answer.
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = answer.Status is 429 or 503 ? "14" : "3";
        context.Response.Headers["grpc-message"] = $"refused by the test ({answer.Status})";
        await context.Response.CompleteAsync();
    }
}
