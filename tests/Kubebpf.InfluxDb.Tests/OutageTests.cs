using System.Diagnostics;
using Kubebpf.Agent.Sinks;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>
/// The host's sink pump in front of the real 1.x sink while the real influxd is stopped for <see cref="OutageDuration"/>
/// and started again with its data. The two cases are separate classes (each with its own server) so that xunit runs them in parallel.
/// </summary>
internal static class Outage
{
    /// <summary>As long as the issue asked for; the arithmetic does not depend on it, only the test's duration does.</summary>
    public static readonly TimeSpan OutageDuration = TimeSpan.FromSeconds(30);

    public const string Measurement = "outage";

    // The default 30 s maximum backoff would only make the test wait up to 30 s after the restart; the behaviour is the same.
    public static SinkPumpOptions Options(int bufferLimit, int batchSize) => new()
    {
        BufferLimit = bufferLimit,
        BatchSize = batchSize,
        FlushInterval = TimeSpan.FromMilliseconds(200),
        RetryDelay = TimeSpan.FromMilliseconds(200),
        MaxRetryDelay = TimeSpan.FromSeconds(2),
    };

    public static SinkPump Pump(InfluxDbServer server, string database, TestAgentMetrics metrics, SinkPumpOptions options) =>
        new("InfluxDb", TestSinks.V1(server.Url, database, metrics), options, metrics, NullLogger.Instance, TimeProvider.System);

    public static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < timeout, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }
}

public sealed class OutageWithinBufferTests(InfluxDbServer server, ITestOutputHelper output) : IClassFixture<InfluxDbServer>
{
    [Fact]
    public async Task Every_point_written_before_during_and_after_an_outage_lands_exactly_once()
    {
        var metrics = new TestAgentMetrics();
        var pump = Outage.Pump(server, "outage_within", metrics, Outage.Options(bufferLimit: 100_000, batchSize: 5000));
        using var stop = new CancellationTokenSource();
        var run = pump.RunAsync(stop.Token);
        var start = TestSinks.Now();
        long sequence = 0;
        void WriteSome(int count)
        {
            for (var i = 0; i < count; i++, sequence++)
            {
                pump.Enqueue(TestSinks.Point(Outage.Measurement, start + sequence * 1000, sequence));
            }
        }

        WriteSome(1000);
        await Outage.WaitUntil(() => metrics.Value("points_written") == 1000, TimeSpan.FromSeconds(10), "the first points");
        server.Stop();
        var outage = Stopwatch.StartNew();
        while (outage.Elapsed < Outage.OutageDuration)
        {
            WriteSome(100); // 1000 points a second while the server is down
            await Task.Delay(100);
        }

        var duringOutage = sequence - 1000;
        var bufferedAtRestart = metrics.Value("buffer_points");
        await server.StartAsync();
        var recovery = Stopwatch.StartNew();
        WriteSome(1000);
        await Outage.WaitUntil(() => metrics.Value("points_written") == sequence, TimeSpan.FromSeconds(30), "the buffered points");
        var recovered = recovery.Elapsed;

        Assert.Equal(sequence, await server.CountAsync("outage_within", Outage.Measurement, "seq"));
        Assert.Equal(0, metrics.Value("points_dropped_overflow"));
        Assert.Equal(0, metrics.Value("points_dropped_error"));
        Assert.True(metrics.Value("retries") > 0);
        output.WriteLine(
            $"outage {outage.Elapsed.TotalSeconds:F1} s: {duringOutage} points written during it, {bufferedAtRestart} buffered at restart, " +
            $"all {sequence} in InfluxDB {recovered.TotalSeconds:F1} s after the restart; {metrics.Value("write_errors")} failed attempts, {metrics.Value("retries")} retries");
        await stop.CancelAsync();
        await run;
    }
}

public sealed class OutageBeyondBufferTests(InfluxDbServer server, ITestOutputHelper output) : IClassFixture<InfluxDbServer>
{
    [Fact]
    public async Task The_oldest_points_beyond_the_bound_are_dropped_and_counted_exactly()
    {
        const int Bound = 1000;
        const int Before = 500;
        const int During = 5000;
        var metrics = new TestAgentMetrics();
        var pump = Outage.Pump(server, "outage_beyond", metrics, Outage.Options(bufferLimit: Bound, batchSize: 200));
        using var stop = new CancellationTokenSource();
        var run = pump.RunAsync(stop.Token);
        var start = TestSinks.Now();
        for (var i = 0; i < Before; i++)
        {
            pump.Enqueue(TestSinks.Point(Outage.Measurement, start + i * 1000L, i));
        }

        await Outage.WaitUntil(() => metrics.Value("points_written") == Before, TimeSpan.FromSeconds(10), "the first points");
        server.Stop();
        var outage = Stopwatch.StartNew();
        for (var i = Before; i < Before + During; i++)
        {
            pump.Enqueue(TestSinks.Point(Outage.Measurement, start + i * 1000L, i));
            if (i % 100 == 0)
            {
                await Task.Delay(TimeSpan.FromTicks(Outage.OutageDuration.Ticks / (During / 100) / 2)); // spread over the first half
            }
        }

        await Task.Delay(Outage.OutageDuration - outage.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
        await server.StartAsync();
        await Outage.WaitUntil(() => metrics.Value("buffer_points") == 0, TimeSpan.FromSeconds(30), "the buffer to empty");

        Assert.Equal(During - Bound, metrics.Value("points_dropped_overflow"));
        Assert.Equal(Before + Bound, metrics.Value("points_written"));
        Assert.Equal(Before + Bound, await server.CountAsync("outage_beyond", Outage.Measurement, "seq"));
        var oldestKept = await server.QueryAsync("outage_beyond", $"SELECT MIN(seq) FROM {Outage.Measurement} WHERE seq >= {Before}");
        Assert.Equal(Before + During - Bound, oldestKept[0].Values["min"].GetInt64());
        output.WriteLine(
            $"outage {outage.Elapsed.TotalSeconds:F1} s, bound {Bound}: {During} points during it, {metrics.Value("points_dropped_overflow")} dropped (oldest first), " +
            $"{Before + Bound} in InfluxDB; {metrics.Value("write_errors")} failed attempts, {metrics.Value("retries")} retries");
        await stop.CancelAsync();
        await run;
    }
}
