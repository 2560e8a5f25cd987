using System.Net.Http.Headers;

namespace Kubebpf.InfluxDb;

/// <summary>
/// Rewrites a <c>Retry-After</c> HTTP date into delta-seconds: InfluxDB.Client 5.1 parses the header with
/// <c>Convert.ToInt32</c> and throws a FormatException on the (equally valid) date form, losing the answer.
/// </summary>
internal sealed class RetryAfterSecondsHandler(TimeProvider time) : DelegatingHandler(new HttpClientHandler())
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.Headers.RetryAfter is { Date: { } date })
        {
            var seconds = Math.Max(0, (long)Math.Ceiling((date - time.GetUtcNow()).TotalSeconds));
            response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
        }

        return response;
    }
}
