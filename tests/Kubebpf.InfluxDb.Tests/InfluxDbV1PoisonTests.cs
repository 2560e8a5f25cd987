using System.Numerics;
using Kubebpf.Agent.Sinks;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>
/// A 5xx is an outage unless <c>/ping</c> says the server is up: then the points it fails on their own while it takes the
/// rest of their batch are poison, dropped and counted, and the queue behind them moves on.
/// </summary>
public sealed class InfluxDbV1PoisonTests
{
    private const string Poison = "poison";
    private readonly TestAgentMetrics _metrics = new();
    private readonly ListLogger _logger = new();

    [Fact]
    public async Task Points_the_server_always_fails_are_dropped_and_counted_and_the_points_behind_them_arrive()
    {
        using var server = new FakeInfluxDb1Server(IsPoison);
        var pump = new SinkPump(TestSinks.Instance, Sink(server.Url), new SinkPumpOptions
        {
            BatchSize = 100,
            FlushInterval = TimeSpan.FromMilliseconds(50),
            RetryDelay = TimeSpan.FromMilliseconds(50),
        }, _metrics, _logger, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var run = pump.RunAsync(stop.Token);
        var start = TestSinks.Now();
        var points = Enumerable.Range(0, 300).Select(i => TestSinks.Point("call", start + i, i)).ToList();
        // One poison point in the first batch, two in the third.
        points[30] = TestSinks.Point(Poison, start + 30, 30);
        points[210] = TestSinks.Point(Poison, start + 210, 210);
        points[260] = TestSinks.Point(Poison, start + 260, 260);

        pump.Enqueue(points);

        Poll.Until(() => _metrics.Value("points_written") == points.Count, "every point accounted for as written", () => $"written {_metrics.Value("points_written")}, stored {server.Stored.Count}");
        await stop.CancelAsync();
        await run;
        var stored = server.Stored.Select(line => long.Parse(line.Split(' ')[1].TrimStart("seq=".ToCharArray()).TrimEnd('i'), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(0, 300).Where(i => i is not (30 or 210 or 260)).Select(i => (long)i), stored);
        Assert.Equal(3, _metrics.Value("points_poisoned"));
        Assert.Equal(stored.Count + _metrics.Value("points_poisoned"), _metrics.Value("points_written"));
        Assert.Equal(0, _metrics.Value("buffer_points"));
        Assert.Equal(0, _metrics.Value("points_dropped_overflow") + _metrics.Value("points_dropped_error") + _metrics.Value("write_errors"));
        // Two batches with poison within a minute: one message, naming the server's reason.
        var message = Assert.Single(_logger.Entries, e => e.Message.Contains("failed on their own", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, message.Level);
        Assert.Contains("dropped 1 points", message.Message, StringComparison.Ordinal);
        Assert.Contains("500: engine: error writing WAL entry", message.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_fails_every_write_while_it_answers_ping_is_retried_whole_after_a_few_requests()
    {
        using var server = new FakeInfluxDb1Server(IsPoison) { FailsEveryWrite = true };
        using var sink = Sink(server.Url);
        var batch = Points(1000);

        await Assert.ThrowsAsync<SinkWriteException>(() => sink.WriteAsync(batch, CancellationToken.None).AsTask());

        Assert.Empty(server.Stored);
        Assert.Equal(0, _metrics.Value("points_poisoned"));
        // The halving gives up after 4 * (log2(1000) + 2) = 44 failures, not one request per point.
        Assert.InRange(server.Writes, BitOperations.Log2(1000u) + 1, (4 * (BitOperations.Log2(1000u) + 2)) + 1);
        Assert.Equal(1, server.Pings);
    }

    [Fact]
    public async Task A_5xx_while_ping_fails_is_an_outage_retried_whole_without_splitting()
    {
        using var server = new FakeInfluxDb1Server(IsPoison) { PingAnswers = false };
        using var sink = Sink(server.Url);
        var batch = Points(10);
        batch[3] = TestSinks.Point(Poison, 3, 3);

        var error = await Assert.ThrowsAsync<SinkWriteException>(() => sink.WriteAsync(batch, CancellationToken.None).AsTask());

        Assert.Contains("500", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Writes);
        Assert.Equal(1, server.Pings);
        Assert.Equal(0, _metrics.Value("batches_split"));
        Assert.Equal(0, _metrics.Value("points_poisoned"));
    }

    [Fact]
    public async Task A_batch_of_poison_alone_is_retried_since_nothing_shows_the_server_takes_writes()
    {
        using var server = new FakeInfluxDb1Server(IsPoison);
        using var sink = Sink(server.Url);

        await Assert.ThrowsAsync<SinkWriteException>(() => sink.WriteAsync([TestSinks.Point(Poison, 1, 1), TestSinks.Point(Poison, 2, 2)], CancellationToken.None).AsTask());

        Assert.Equal(0, _metrics.Value("points_poisoned"));
        Assert.Equal(3, server.Writes);
    }

    private static bool IsPoison(string line) => line.StartsWith(Poison, StringComparison.Ordinal);

    private static MetricPoint[] Points(int count) => [.. Enumerable.Range(0, count).Select(i => TestSinks.Point("call", i, i))];

    private InfluxDbV1Sink Sink(string url) => TestSinks.V1(url, "db", _metrics, logger: _logger);
}
