using System.Net;
using System.Text;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>How the 1.x sink maps answers the real server gives only in rare states (throttling, auth), through a stub handler.</summary>
public sealed class InfluxDbV1AnswerTests
{
    private readonly TestAgentMetrics _metrics = new();

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public async Task Throttling_is_retryable_with_retry_after_in_seconds_or_as_a_date(HttpStatusCode status)
    {
        var seconds = await Write(Answer(status, "{\"error\":\"busy\"}", "12"));
        var date = await Write(Answer(status, "{\"error\":\"busy\"}", DateTimeOffset.UtcNow.AddSeconds(20).ToString("r")));

        Assert.Equal(TimeSpan.FromSeconds(12), Assert.IsType<SinkWriteException>(seconds).RetryAfter);
        Assert.InRange(Assert.IsType<SinkWriteException>(date).RetryAfter!.Value, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(21));
    }

    [Fact]
    public async Task A_server_error_is_retryable_and_carries_the_message()
    {
        var error = Assert.IsType<SinkWriteException>(await Write(Answer(HttpStatusCode.InternalServerError, "{\"error\":\"engine: disk full\"}")));

        Assert.Contains("engine: disk full", error.Message, StringComparison.Ordinal);
        Assert.Null(error.RetryAfter);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task Bad_credentials_are_not_retried_and_name_the_settings(HttpStatusCode status)
    {
        var error = Assert.IsType<InvalidOperationException>(await Write(Answer(status, "{\"error\":\"authorization failed\"}")));

        Assert.Contains("Plugins:InfluxDb:Username", error.Message, StringComparison.Ordinal);
        Assert.Contains(InfluxDbSinkOptions.PasswordEnvironmentVariable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_400_quoting_rejected_lines_is_logged_without_them_and_still_counted()
    {
        // InfluxDB quotes each line it cannot parse, and a line holds paths, hosts and statements: the log names its
        // measurement and length only. A line may hold "': " itself.
        const string line = "http_requests,method=GET path=\"/reset/kbpf-secret': x\",host=\"kbpf-secret.example\" 1";
        var body = System.Text.Json.JsonSerializer.Serialize(new
        {
            error = $"partial write: unable to parse '{line}': invalid field format\nunable to parse 'm2 v=kbpf-secret-2': invalid boolean dropped=1",
        });
        var logger = new ListLogger();
        using var sink = TestSinks.V1("http://influx.example:8086", "db", _metrics, new StubHandler(Answer(HttpStatusCode.BadRequest, body)), o => o.CreateDatabase = false, logger);

        await sink.WriteAsync([.. Enumerable.Range(0, 5).Select(i => TestSinks.Point("m", i, i))], CancellationToken.None);

        var logged = Assert.Single(logger.Entries).Message;
        Assert.DoesNotContain("kbpf-secret", logged, StringComparison.Ordinal);
        Assert.Contains("unable to parse 'http_requests,... (", logged, StringComparison.Ordinal);
        Assert.Contains("characters, not shown)': invalid field format", logged, StringComparison.Ordinal);
        Assert.Contains("unable to parse 'm2,... (", logged, StringComparison.Ordinal);
        Assert.Equal(3, _metrics.Value("points_rejected")); // two unparsable lines and one dropped point
    }

    [Fact]
    public void Long_server_messages_are_cut_for_the_log()
    {
        var message = InfluxResponses.ForLog(new string('x', 5000));

        Assert.Equal(InfluxResponses.MaxMessageLength + "... (cut)".Length, message.Length);
    }

    [Fact]
    public async Task Sends_basic_auth_precision_ns_the_policy_and_gzip_above_the_threshold()
    {
        var requests = new List<HttpRequestMessage>();
        var handler = new StubHandler(request =>
        {
            requests.Add(request);
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        });
        using var sink = TestSinks.V1("http://influx.example:8086/prefix/", "db", _metrics, handler, o =>
        {
            o.CreateDatabase = false;
            o.Username = "writer";
            o.Password = "pw";
            o.GzipThresholdBytes = 100;
        });

        await sink.WriteAsync([TestSinks.Point("m", 1, 1)], CancellationToken.None);
        await sink.WriteAsync([.. Enumerable.Range(0, 20).Select(i => TestSinks.Point("m", i, i))], CancellationToken.None);

        Assert.Equal("http://influx.example:8086/prefix/write?db=db&rp=kubebpf_2d&precision=ns", requests[0].RequestUri!.ToString());
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("writer:pw")), requests[0].Headers.Authorization!.ToString());
        Assert.Empty(requests[0].Content!.Headers.ContentEncoding);
        Assert.Equal(["gzip"], requests[1].Content!.Headers.ContentEncoding);
    }

    private static Func<HttpRequestMessage, HttpResponseMessage> Answer(HttpStatusCode status, string body, string? retryAfter = null) => _ =>
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (retryAfter is not null)
        {
            response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        }

        return response;
    };

    private async Task<Exception?> Write(Func<HttpRequestMessage, HttpResponseMessage> answer)
    {
        using var sink = TestSinks.V1("http://influx.example:8086", "db", _metrics, new StubHandler(answer), o => o.CreateDatabase = false);
        return await Record.ExceptionAsync(() => sink.WriteAsync([TestSinks.Point("m", 1, 1)], CancellationToken.None).AsTask());
    }

    private sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }
}
