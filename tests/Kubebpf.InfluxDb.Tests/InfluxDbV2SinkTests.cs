using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>The 2.x sink through InfluxDB.Client's WriteApiAsync, against a fake that checks the 2.x wire protocol.</summary>
public sealed class InfluxDbV2SinkTests : IDisposable
{
    private const string Token = "s3cr3t-token";
    private readonly FakeInfluxDb2Server _server = new(Token);
    private readonly TestAgentMetrics _metrics = new();

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task Sends_the_2x_write_request_with_nanosecond_line_protocol()
    {
        using var sink = Sink();

        await sink.WriteAsync([Point(1_700_000_000_123_456_789, 42)], CancellationToken.None);

        var request = Assert.Single(_server.Requests);
        Assert.Equal(("POST", "/api/v2/write", "kubebpf-org", "kubebpf", "ns"), (request.Method, request.Path, request.Org, request.Bucket, request.Precision));
        Assert.Equal($"Token {Token}", request.Authorization);
        Assert.Equal("text/plain; charset=utf-8", request.ContentType);
        Assert.False(request.Gzip);
        Assert.Equal("m,workload=api bytes=42u 1700000000123456789", request.Body.TrimEnd('\n'));
    }

    [Fact]
    public async Task Gzips_bodies_above_the_threshold_only()
    {
        using var sink = Sink(o => o.GzipThresholdBytes = 1000);

        await sink.WriteAsync([.. Enumerable.Range(0, 100).Select(i => Point(i, (ulong)i))], CancellationToken.None);
        await sink.WriteAsync([Point(1, 1)], CancellationToken.None);

        var requests = _server.Requests.ToArray();
        Assert.True(requests[0].Gzip);
        Assert.Equal(100, requests[0].Body.TrimEnd('\n').Split('\n').Length);
        Assert.False(requests[1].Gzip);
    }

    [Fact]
    public async Task A_wrong_token_is_a_non_retryable_error_naming_the_setting()
    {
        using var sink = Sink(o => o.Token = "wrong");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Write(sink));

        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.Contains("Plugins:InfluxDb:Token", error.Message, StringComparison.Ordinal);
        Assert.Contains(InfluxDbSinkOptions.TokenEnvironmentVariable, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task Throttling_is_retryable_with_the_servers_retry_after(int status)
    {
        using var sink = Sink();
        _server.Answer(status, """{"code":"too many requests","message":"slow down"}""", retryAfter: "7");

        var error = await Assert.ThrowsAsync<SinkWriteException>(() => Write(sink));

        Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
    }

    [Fact]
    public async Task Retry_after_as_an_http_date_is_honoured()
    {
        using var sink = Sink();
        _server.Answer(503, """{"code":"unavailable","message":"starting"}""", retryAfter: DateTimeOffset.UtcNow.AddSeconds(30).ToString("r"));

        var error = await Assert.ThrowsAsync<SinkWriteException>(() => Write(sink));

        Assert.InRange(error.RetryAfter!.Value, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(31));
    }

    [Fact]
    public async Task A_server_error_is_retryable()
    {
        using var sink = Sink();
        _server.Answer(500, """{"code":"internal error","message":"boom"}""");

        var error = await Assert.ThrowsAsync<SinkWriteException>(() => Write(sink));

        Assert.Null(error.RetryAfter);
        Assert.Contains("boom", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_partial_write_is_counted_as_rejected_and_not_retried()
    {
        using var sink = Sink();
        _server.Answer(400, """{"code":"invalid","message":"partial write: field type conflict: input field \"bytes\" on measurement \"m\" is type integer, already exists as type float dropped=1"}""");

        await sink.WriteAsync([Point(1, 1), Point(2, 2)], CancellationToken.None);

        Assert.Equal(1, _metrics.Value("points_rejected"));
    }

    [Fact]
    public async Task An_unreachable_server_is_retryable()
    {
        using var sink = Sink(o => o.Url = "http://127.0.0.1:1");

        await Assert.ThrowsAsync<SinkWriteException>(() => Write(sink));
    }

    private InfluxDbV2Sink Sink(Action<InfluxDbSinkOptions>? configure = null)
    {
        var options = new InfluxDbSinkOptions { Url = _server.Url, Org = "kubebpf-org", Bucket = "kubebpf", Token = Token };
        configure?.Invoke(options);
        InfluxDbSinkOptions.ApplyDefaults(options);
        return new InfluxDbV2Sink(options, TestSinks.Instance, _metrics, NullLogger.Instance, TimeProvider.System);
    }

    private static Task Write(InfluxDbV2Sink sink) => sink.WriteAsync([Point(1, 1)], CancellationToken.None).AsTask();

    private static MetricPoint Point(long time, ulong value) => new("m", [new Tag("workload", "api")], [new Field("bytes", FieldValue.UInteger(value))], time);
}
