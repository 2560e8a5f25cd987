using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Kubebpf.Prometheus.RemoteWrite;

/// <summary>What became of one send.</summary>
internal enum SendOutcome
{
    /// <summary>2xx: the receiver has it.</summary>
    Sent,

    /// <summary>4xx other than 429: the receiver will never take it; drop it and count.</summary>
    Rejected,

    /// <summary>5xx, 429, a timeout or a network error: send it again later.</summary>
    Retry,
}

/// <summary>The outcome, the HTTP status (0 without an answer) and the delay the receiver asked for, if any.</summary>
internal readonly record struct SendResult(SendOutcome Outcome, int Status, TimeSpan? RetryAfter, string Reason);

/// <summary>
/// Posts one snappy-compressed write request with the remote-write 1.0 headers and sorts the answer into send, drop or
/// retry (as Prometheus' own remote-write client does: 5xx and 429 are retried, other 4xx are not).
/// </summary>
internal sealed class RemoteWriteClient(HttpClient http, RemoteWriteOptions options)
{
    private readonly Uri _url = new(options.Url);
    private readonly AuthenticationHeaderValue? _authorization = Authorization(options);

    public async Task<SendResult> SendAsync(byte[] compressedBody, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(compressedBody);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        content.Headers.ContentEncoding.Add("snappy");
        using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = content };
        request.Headers.Add("X-Prometheus-Remote-Write-Version", "0.1.0");
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("kubebpf", "1.0"));
        request.Headers.Authorization = _authorization;
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new SendResult(SendOutcome.Sent, status, null, string.Empty);
            }

            var reason = await ReasonAsync(response, cancellationToken);
            return status == (int)HttpStatusCode.TooManyRequests || status >= 500
                ? new SendResult(SendOutcome.Retry, status, RetryAfter(response.Headers.RetryAfter), reason)
                : new SendResult(SendOutcome.Rejected, status, null, reason);
        }
        catch (HttpRequestException ex)
        {
            return new SendResult(SendOutcome.Retry, 0, null, ex.Message);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendResult(SendOutcome.Retry, 0, null, "timed out: " + ex.Message);
        }
    }

    private static async Task<string> ReasonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var firstLine = body.Split('\n', 2)[0];
        return $"{(int)response.StatusCode} {firstLine[..Math.Min(firstLine.Length, 200)]}";
    }

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    private static AuthenticationHeaderValue? Authorization(RemoteWriteOptions options)
    {
        if (!string.IsNullOrEmpty(options.BearerToken))
        {
            return new AuthenticationHeaderValue("Bearer", options.BearerToken);
        }

        return string.IsNullOrEmpty(options.Username)
            ? null
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}")));
    }
}
