using System.Text;
using Kubebpf.Prometheus.Metrics;
using Kubebpf.Prometheus.RemoteWrite;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Prometheus.Tests;

/// <summary>The remote-write loop against a receiver that decodes every request and answers what each test says.</summary>
public sealed class RemoteWriterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Requests_carry_the_remote_write_headers_basic_auth_and_cumulative_totals()
    {
        using var receiver = new FakeReceiver();
        await using var run = Run.Start(receiver, o => { o.Username = "agent"; o.Password = "s3cret"; });
        run.Exchanges.OnEvents([Samples.Http("/a"), Samples.Http("/a"), Samples.Http("/a", durationNs: 300_000_000)]);
        var first = run.WaitForWrite(w => RequestsTotal(w) == 3);
        run.Exchanges.OnEvents([Samples.Http("/a"), Samples.Http("/a")]);
        var later = run.WaitForWrite(w => RequestsTotal(w) == 5);

        Assert.Equal("snappy", first.Headers["Content-Encoding"]);
        Assert.Equal("application/x-protobuf", first.Headers["Content-Type"]);
        Assert.Equal("0.1.0", first.Headers["X-Prometheus-Remote-Write-Version"]);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("agent:s3cret")), first.Headers["Authorization"]);

        var total = Assert.Single(later.Series!, s => s.Name == "kubebpf_http_requests_total");
        Assert.Equal("kubebpf", total.Labels["job"]);
        Assert.Equal(Environment.MachineName, total.Labels["instance"]);
        Assert.Equal("cart-7d9f-x2b4q", total.Labels["pod"]);
        Assert.Equal("/a", total.Labels["route"]);
        Assert.Equal(5, Assert.Single(later.Series!, s => s.Name == "kubebpf_http_request_duration_seconds_count").Samples[0].Value);
        Assert.Equal(4, Assert.Single(later.Series!, s => s.Name == "kubebpf_http_request_duration_seconds_bucket" && s.Labels["le"] == "0.25").Samples[0].Value);
        Assert.Equal(5, Assert.Single(later.Series!, s => s.Name == "kubebpf_http_request_duration_seconds_bucket" && s.Labels["le"] == "0.5").Samples[0].Value);
        Assert.All(later.Series!, s => Assert.Equal(later.Series![0].Samples[0].TimestampMs, Assert.Single(s.Samples).TimestampMs));
        Assert.Equal(0, run.Metrics.Value("remote_write_retries"));
    }

    [Fact]
    public async Task A_bearer_token_is_sent_as_such()
    {
        using var receiver = new FakeReceiver();
        await using var run = Run.Start(receiver, o => o.BearerToken = "t0ken");
        var write = run.WaitForWrite(_ => true);
        Assert.Equal("Bearer t0ken", write.Headers["Authorization"]);
    }

    [Fact]
    public async Task A_400_drops_that_request_counts_it_and_later_requests_still_go()
    {
        using var receiver = new FakeReceiver { Answer = n => n == 0 ? (400, null) : (204, null) };
        await using var run = Run.Start(receiver);
        run.Exchanges.OnEvents([Samples.Http("/a")]);

        Poll.Until(() => run.Metrics.Value("remote_write_requests") >= 1, "a request accepted after the refused one", run.State, Deadline);
        Assert.Equal(1, run.Metrics.Value("remote_write_rejected"));
        Assert.Equal(0, run.Metrics.Value("remote_write_retries"));
        var requests = receiver.Requests.ToArray();
        Assert.NotEqual(Timestamp(requests[0].Write), Timestamp(requests[1].Write));
    }

    [Fact]
    public async Task Answers_503_and_429_are_retried_with_the_same_request_and_retry_after_is_honoured()
    {
        using var receiver = new FakeReceiver { Answer = n => n switch { 0 => (503, null), 1 => (429, 2), _ => (204, null) } };
        await using var run = Run.Start(receiver);
        run.Exchanges.OnEvents([Samples.Http("/a")]);

        Poll.Until(() => run.Metrics.Value("remote_write_requests") >= 1, "the request accepted after 503 and 429", run.State, Deadline);
        var requests = receiver.Requests.ToArray();
        Assert.Equal(2, run.Metrics.Value("remote_write_retries"));
        Assert.Equal(0, run.Metrics.Value("remote_write_rejected"));
        Assert.Equal(Timestamp(requests[0].Write), Timestamp(requests[1].Write));
        Assert.Equal(Timestamp(requests[0].Write), Timestamp(requests[2].Write));
        Assert.True(requests[2].At - requests[1].At >= TimeSpan.FromSeconds(2), $"retried {requests[2].At - requests[1].At} after a Retry-After of 2 s");
    }

    [Fact]
    public async Task While_the_receiver_fails_the_buffer_keeps_its_bound_counts_what_it_dropped_and_the_totals_arrive_afterwards()
    {
        using var receiver = new FakeReceiver { Answer = _ => (503, null) };
        await using var run = Run.Start(receiver, o => o.MaxBufferBytes = 1024);
        // Enough series that two compressed requests do not fit in 1 KiB.
        run.Exchanges.OnEvents([.. Enumerable.Range(0, 20).Select(i => Samples.Http($"/route{i}"))]);

        Poll.Until(() => run.Metrics.Value("remote_write_dropped") >= 2, "requests dropped from the full buffer", run.State, Deadline);
        Assert.True(run.Metrics.Value("remote_write_dropped_bytes") > 0);
        Assert.Equal(1, run.Metrics.Value("remote_write_buffered_requests"));
        Assert.Equal(503, run.Metrics.Value("remote_write_last_status"));

        run.Exchanges.OnEvents([Samples.Http("/route0")]);
        receiver.Answer = _ => (204, null);
        var write = run.WaitForWrite(w => RequestsTotal(w) == 21);
        Assert.Equal(2, Assert.Single(write.Series!, s => s.Name == "kubebpf_http_requests_total" && s.Labels["route"] == "/route0").Samples[^1].Value);
    }

    private static double RequestsTotal(ReceivedWrite write) =>
        write.Series?.Where(s => s.Name == "kubebpf_http_requests_total").Sum(s => s.Samples[^1].Value) ?? -1;

    private static long Timestamp(ReceivedWrite write) => write.Series![0].Samples[^1].TimestampMs;

    /// <summary>A running <see cref="RemoteWriter"/> over real exchange metrics, sending every 200 ms.</summary>
    private sealed class Run : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly FakeReceiver _receiver;
        private Task _loop = Task.CompletedTask;

        private Run(FakeReceiver receiver, Action<RemoteWriteOptions>? configure)
        {
            _receiver = receiver;
            var options = Samples.Options();
            options.RemoteWrite = new RemoteWriteOptions
            {
                Url = receiver.Url, SendInterval = TimeSpan.FromMilliseconds(200), MaxRetryDelay = TimeSpan.FromSeconds(1),
            };
            configure?.Invoke(options.RemoteWrite);
            Assert.Empty(options.Validate());
            Exchanges = Samples.ExchangeMetrics(options, Metrics, TimeProvider.System);
            Writer = new RemoteWriter(
                Samples.Wrap(options), new MetricCollector([Exchanges]), new RemoteWriteClient(new HttpClient(), options.RemoteWrite),
                Metrics, TimeProvider.System, NullLogger<RemoteWriter>.Instance);
        }

        public TestAgentMetrics Metrics { get; } = new();

        public ExchangeMetrics Exchanges { get; }

        public RemoteWriter Writer { get; }

        public static Run Start(FakeReceiver receiver, Action<RemoteWriteOptions>? configure = null)
        {
            var run = new Run(receiver, configure);
            run._loop = Task.Run(() => run.Writer.RunAsync(run._stop.Token));
            return run;
        }

        /// <summary>The first decoded request (in arrival order) that matches; fails if a request did not decode.</summary>
        public ReceivedWrite WaitForWrite(Func<ReceivedWrite, bool> match)
        {
            ReceivedWrite? found = null;
            Poll.Until(
                () =>
                {
                    var undecoded = _receiver.Requests.FirstOrDefault(r => r.Write.Series is null);
                    Assert.True(undecoded.Write is null, $"A request did not decode: {undecoded.Write?.DecodeError}");
                    found = _receiver.Requests.Select(r => r.Write).FirstOrDefault(match);
                    return found is not null;
                },
                "a matching write request",
                State,
                Deadline);
            return found!;
        }

        public string State() =>
            $"{_receiver.Requests.Count} requests received ({string.Join(",", _receiver.Requests.Select(r => r.Status))}); " +
            string.Join(' ', new[] { "remote_write_requests", "remote_write_retries", "remote_write_rejected", "remote_write_dropped", "remote_write_buffered_bytes" }
                .Select(n => $"{n}={Metrics.Value(n)}"));

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }
    }
}
