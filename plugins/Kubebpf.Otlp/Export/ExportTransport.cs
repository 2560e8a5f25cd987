using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Kubebpf.Otlp.Export;

/// <summary>
/// The HTTP handler under the OpenTelemetry exporter (both transports go through an <see cref="HttpClient"/>): it
/// retries transient failures with exponential backoff and jitter, honouring <c>Retry-After</c>, until the export's
/// deadline, and counts what the exporter would only log: every failed attempt, every export given up with the data
/// points or log records it carried, and what a receiver rejected in a partial success. One instance per signal.
/// </summary>
internal sealed class ExportTransport : DelegatingHandler
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LongestBackoff = TimeSpan.FromSeconds(5);

    // gRPC codes the OTLP specification calls retryable: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
    // UNAVAILABLE, DATA_LOSS; RESOURCE_EXHAUSTED only with retry information (grpc-status-details-bin).
    private static readonly int[] RetryableGrpcCodes = [1, 4, 10, 11, 14, 15];
    private const int ResourceExhausted = 8;

    private readonly OtlpSignal _signal;
    private readonly bool _grpc;
    private readonly bool _retry;
    private readonly TimeSpan _timeout;
    private readonly ExportLosses _losses;
    private readonly TimeProvider _time;

    public ExportTransport(OtlpSignal signal, bool grpc, bool retry, TimeSpan timeout, ExportLosses losses, TimeProvider time)
        : base(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
    {
        _signal = signal;
        _grpc = grpc;
        _retry = retry;
        _timeout = timeout;
        _losses = losses;
        _time = time;
    }

    /// <summary>An <see cref="HttpClient"/> over this handler; its own timeout is off: the handler applies the export's deadline.</summary>
    public HttpClient CreateClient() => new(this, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken).GetAwaiter().GetResult();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var deadline = _time.GetUtcNow() + _timeout;
        for (var attempt = 0; ; attempt++)
        {
            var (response, error, retryAfter) = await AttemptAsync(request, body, deadline, cancellationToken).ConfigureAwait(false);
            if (response is not null && error is null)
            {
                _losses.Rejected(_signal, OtlpWire.Rejected(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false), _grpc));
                return response;
            }

            _losses.AttemptsFailed.Increment();
            var delay = retryAfter ?? Backoff(attempt);
            if (_retry && retryAfter != Timeout.InfiniteTimeSpan && _time.GetUtcNow() + delay < deadline && !cancellationToken.IsCancellationRequested)
            {
                response?.Dispose();
                _losses.Retries.Increment();
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            _losses.Failed(_signal, OtlpWire.CountItems(body, _signal, _grpc));
            return response ?? throw error!;
        }
    }

    /// <summary>
    /// One attempt. Returns the response when it succeeded; otherwise the response or exception and the retry delay:
    /// null for the default backoff, <see cref="Timeout.InfiniteTimeSpan"/> when the failure is permanent.
    /// </summary>
    private async Task<(HttpResponseMessage? Response, Exception? Error, TimeSpan? RetryAfter)> AttemptAsync(
        HttpRequestMessage original, byte[] body, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var remaining = deadline - _time.GetUtcNow();
        if (remaining <= TimeSpan.Zero)
        {
            return (null, new TimeoutException("The export deadline passed."), Timeout.InfiniteTimeSpan);
        }

        using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attemptTimeout.CancelAfter(remaining);
        using var request = Copy(original, body);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, attemptTimeout.Token).ConfigureAwait(false);
            await response.Content.LoadIntoBufferAsync(attemptTimeout.Token).ConfigureAwait(false); // gRPC trailers come after the body
        }
        catch (HttpRequestException ex)
        {
            return (null, ex, null); // no connection, reset: the receiver may be restarting
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, new TimeoutException("The export timed out.", ex), null);
        }

        if (!response.IsSuccessStatusCode)
        {
            var retryable = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway
                or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;
            return (response, new HttpRequestException($"The receiver answered {(int)response.StatusCode}."),
                retryable ? RetryAfter(response.Headers.RetryAfter) : Timeout.InfiniteTimeSpan);
        }

        if (_grpc && GrpcStatus(response) is { } status and not 0)
        {
            var retryable = Array.IndexOf(RetryableGrpcCodes, status) >= 0
                || (status == ResourceExhausted && HasHeader(response, "grpc-status-details-bin"));
            return (response, new HttpRequestException($"The receiver answered gRPC status {status}."), retryable ? null : Timeout.InfiniteTimeSpan);
        }

        return (response, null, null);
    }

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date > _time.GetUtcNow() ? date - _time.GetUtcNow() : TimeSpan.Zero,
        _ => null,
    };

    private static TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(FirstBackoff.TotalMilliseconds * Math.Pow(2, attempt), LongestBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    // A trailers-only answer (an error before any message) carries grpc-status in the headers.
    private static int? GrpcStatus(HttpResponseMessage response)
    {
        var text = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.FirstOrDefault()
            : response.Headers.TryGetValues("grpc-status", out var header) ? header.FirstOrDefault()
            : null;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var status) ? status : null;
    }

    private static bool HasHeader(HttpResponseMessage response, string name) =>
        response.TrailingHeaders.Contains(name) || response.Headers.Contains(name);

    private static HttpRequestMessage Copy(HttpRequestMessage original, byte[] body)
    {
        var copy = new HttpRequestMessage(original.Method, original.RequestUri)
        {
            Version = original.Version,
            VersionPolicy = original.VersionPolicy,
            Content = new ByteArrayContent(body),
        };
        foreach (var (name, values) in original.Headers)
        {
            copy.Headers.TryAddWithoutValidation(name, values);
        }

        if (original.Content is not null)
        {
            foreach (var (name, values) in original.Content.Headers)
            {
                if (!string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    copy.Content.Headers.TryAddWithoutValidation(name, values);
                }
            }
        }

        return copy;
    }
}
