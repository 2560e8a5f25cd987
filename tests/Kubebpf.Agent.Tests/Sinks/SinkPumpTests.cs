using Kubebpf.Agent.Sinks;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Kubebpf.Agent.Tests.Sinks;

public sealed class SinkPumpTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly TestAgentMetrics _metrics = new();
    private readonly CancellationTokenSource _stop = new();

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    [Fact]
    public async Task Writes_full_batches_at_once_and_a_partial_one_after_the_flush_interval()
    {
        var sink = new ScriptedSink();
        var pump = Pump(sink, new SinkPumpOptions { BatchSize = 3, FlushInterval = TimeSpan.FromSeconds(1) });
        var run = pump.RunAsync(_stop.Token);

        Enqueue(pump, 0, 7);
        await Until(() => sink.Calls == 2);
        await Task.Delay(50);
        Assert.Equal(2, sink.Calls);

        _time.Advance(TimeSpan.FromSeconds(1));
        await Until(() => sink.Calls == 3);

        Assert.Equal([[0, 1, 2], [3, 4, 5], [6]], sink.Batches);
        Assert.Equal(7, _metrics.Value("points_written"));
        Assert.Equal(0, _metrics.Value("buffer_points"));
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Retry_after_from_the_sink_sets_the_delay_before_the_next_attempt()
    {
        var sink = new ScriptedSink((call, _) => call == 1 ? throw new SinkWriteException("throttled", TimeSpan.FromSeconds(7)) : ValueTask.CompletedTask);
        var pump = Pump(sink, new SinkPumpOptions { BatchSize = 2, RetryDelay = TimeSpan.FromMilliseconds(10) });
        var run = pump.RunAsync(_stop.Token);

        Enqueue(pump, 0, 2);
        await Until(() => sink.Calls == 1 && _metrics.Value("retries") == 1);
        _time.Advance(TimeSpan.FromSeconds(6.9));
        await Task.Delay(100);
        Assert.Equal(1, sink.Calls);

        _time.Advance(TimeSpan.FromSeconds(0.1));
        await Until(() => sink.Calls == 2);

        Assert.Equal(2, _metrics.Value("points_written"));
        Assert.Equal(1, _metrics.Value("write_errors"));
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public void The_computed_delay_is_the_retry_after_clamped_to_the_maximum()
    {
        var max = TimeSpan.FromSeconds(30);

        Assert.Equal(TimeSpan.FromSeconds(7), SinkPump.RetryAfter(new SinkWriteException("x", TimeSpan.FromSeconds(7)), max));
        Assert.Equal(max, SinkPump.RetryAfter(new SinkWriteException("x", TimeSpan.FromMinutes(5)), max));
        Assert.Equal(TimeSpan.Zero, SinkPump.RetryAfter(new SinkWriteException("x", TimeSpan.FromSeconds(-3)), max));
        Assert.Null(SinkPump.RetryAfter(new SinkWriteException("x"), max));
        Assert.Null(SinkPump.RetryAfter(new InvalidOperationException(), max));
    }

    [Fact]
    public async Task Overflow_drops_the_oldest_points_and_counts_them()
    {
        var sink = new ScriptedSink();
        var pump = Pump(sink, new SinkPumpOptions { BufferLimit = 5, BatchSize = 5 });

        Enqueue(pump, 0, 8);
        Assert.Equal(3, _metrics.Value("points_dropped_overflow"));
        Assert.Equal(5, _metrics.Value("buffer_points"));
        await pump.DrainAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([3, 4, 5, 6, 7], sink.Written);
    }

    [Fact]
    public async Task A_batch_being_retried_counts_against_the_bound_and_loses_its_oldest_points_first()
    {
        var failing = true;
        var sink = new ScriptedSink((_, _) => Volatile.Read(ref failing) ? throw new SinkWriteException("down") : ValueTask.CompletedTask);
        var pump = Pump(sink, new SinkPumpOptions { BufferLimit = 4, BatchSize = 4, RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(2) });
        var run = pump.RunAsync(_stop.Token);

        Enqueue(pump, 0, 4);
        await Until(() => _metrics.Value("retries") == 1);
        Enqueue(pump, 4, 2);
        Assert.Equal(2, _metrics.Value("points_dropped_overflow"));
        Assert.Equal(4, _metrics.Value("buffer_points"));

        Volatile.Write(ref failing, false);
        await AdvanceUntil(() => _metrics.Value("points_written") == 4);

        Assert.Equal([2, 3, 4, 5], sink.Batches.Skip(1).SelectMany(b => b));
        Assert.Equal(6, _metrics.Value("points_written") + _metrics.Value("points_dropped_overflow"));
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task During_an_outage_records_overflow_their_own_queue_while_every_aggregate_survives_and_is_written_first()
    {
        var failing = true;
        var sink = new ScriptedSink((_, _) => Volatile.Read(ref failing) ? throw new SinkWriteException("down") : ValueTask.CompletedTask);
        var pump = Pump(sink, new SinkPumpOptions { BufferLimit = 10, BatchSize = 10, RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(2) });
        var run = pump.RunAsync(_stop.Token);

        Enqueue(pump, 0, 10); // a call-log batch, in flight when the outage starts
        await Until(() => _metrics.Value("retries") == 1);
        Enqueue(pump, 100, 25); // more call log than its queue holds
        Enqueue(pump, 1000, 5, PointPriority.Aggregates);

        Assert.Equal(25, _metrics.Value("records_dropped_overflow"));
        Assert.Equal(0, _metrics.Value("aggregates_dropped_overflow"));
        Volatile.Write(ref failing, false);
        await AdvanceUntil(() => _metrics.Value("buffer_points") == 0);

        var written = sink.Batches.Skip(1).ToList(); // after the failed attempts
        Assert.Equal([1000, 1001, 1002, 1003, 1004], written.SkipWhile(b => b.Length == 10 && b[0] == 0).First());
        Assert.Equal(Enumerable.Range(115, 10).Select(i => (long)i), sink.Written.Where(t => t >= 100 && t < 1000).Distinct());
        Assert.Equal(15, _metrics.Value("points_written"));
        Assert.Equal(25, _metrics.Value("points_dropped_overflow"));
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Buffers_and_batches_are_bounded_in_estimated_bytes_as_well_as_in_points()
    {
        var sink = new ScriptedSink();
        var bigText = new string('x', 10_000); // about 20 KB in memory
        var options = new SinkPumpOptions { RecordsBufferBytes = 100_000, BatchBytes = 65_536, BatchSize = 1000 };
        var pump = Pump(sink, options);

        for (var i = 0; i < 10; i++)
        {
            pump.Enqueue(new MetricPoint("m", [], [new Field("f", FieldValue.String(bigText))], i));
        }

        Assert.Equal(6, _metrics.Value("records_dropped_overflow")); // four fit in 100,000 bytes
        Assert.InRange(_metrics.Value("buffer_bytes"), 80_000, 100_000);
        await pump.DrainAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([6, 7, 8, 9], sink.Written);
        Assert.All(sink.Batches, b => Assert.True(b.Length <= 3, "a batch exceeded BatchBytes"));
    }

    [Fact]
    public async Task A_write_that_never_returns_is_abandoned_after_the_write_timeout_and_no_other_write_overlaps_it()
    {
        var hang = new TaskCompletionSource();
        var sink = new ScriptedSink((call, _) => call == 1 ? new ValueTask(hang.Task) : ValueTask.CompletedTask);
        var pump = Pump(sink, new SinkPumpOptions { BatchSize = 2, WriteTimeout = TimeSpan.FromSeconds(5), RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(1) });
        var run = pump.RunAsync(_stop.Token);

        Enqueue(pump, 0, 2);
        await Until(() => sink.Calls == 1);
        await AdvanceUntil(() => _metrics.Value("write_timeouts") == 1);
        _time.Advance(TimeSpan.FromSeconds(10)); // retries come and go while the first write hangs
        await Task.Delay(100);
        Assert.Equal(1, sink.Calls);

        hang.SetResult();
        await AdvanceUntil(() => _metrics.Value("points_written") == 2);
        Assert.Equal(2, sink.Calls);
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_non_retryable_error_drops_the_batch_counts_it_and_the_pump_goes_on()
    {
        var sink = new ScriptedSink((call, _) => call == 1 ? throw new InvalidOperationException("bad credentials") : ValueTask.CompletedTask);
        var pump = Pump(sink, new SinkPumpOptions { BatchSize = 3 });
        var run = pump.RunAsync(_stop.Token);

        Enqueue(pump, 0, 6);
        await Until(() => sink.Calls == 2);

        Assert.Equal(3, _metrics.Value("points_dropped_error"));
        Assert.Equal(1, _metrics.Value("write_errors"));
        Assert.Equal(3, _metrics.Value("points_written"));
        Assert.Equal(0, _metrics.Value("retries"));
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Drain_writes_what_is_buffered_without_waiting_for_the_flush_interval_then_refuses_new_points()
    {
        var sink = new ScriptedSink();
        var pump = Pump(sink, new SinkPumpOptions { BatchSize = 100, FlushInterval = TimeSpan.FromHours(1) });
        var run = pump.RunAsync(_stop.Token);
        Enqueue(pump, 0, 5);

        await pump.DrainAsync(TimeSpan.FromSeconds(10)).WaitAsync(TimeSpan.FromSeconds(5));
        Enqueue(pump, 5, 2);

        Assert.Equal([0, 1, 2, 3, 4], sink.Written);
        Assert.Equal(2, _metrics.Value("points_dropped_shutdown"));
        await _stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Drain_gives_up_at_the_deadline_and_counts_what_is_left()
    {
        var sink = new ScriptedSink((_, _) => throw new SinkWriteException("down"));
        var pump = Pump(sink, new SinkPumpOptions { BatchSize = 3, RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(1) });
        var run = pump.RunAsync(_stop.Token);
        Enqueue(pump, 0, 5);
        await Until(() => sink.Calls >= 1);

        var drain = pump.DrainAsync(TimeSpan.FromSeconds(10));
        while (!drain.IsCompleted)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }

        await drain;
        Assert.Equal(5, _metrics.Value("points_dropped_shutdown"));
        Assert.Equal(0, _metrics.Value("points_written"));
        Assert.Equal(0, _metrics.Value("buffer_points"));
        await _stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_filtering_sink_is_handed_only_what_it_accepts_and_what_it_declines_is_neither_buffered_nor_counted()
    {
        var sink = new FilteringSink("kept");
        var pump = Pump(sink, new SinkPumpOptions { BufferLimit = 4, BatchSize = 4 });

        // Declined points ride along in every way a producer writes; buffered, they would have overflowed the bound of 4.
        pump.Enqueue(Point("other", 0), PointPriority.Aggregates);
        pump.Enqueue([Point("kept", 1), Point("other", 2), Point("other", 3), Point("kept", 4)]);
        pump.Enqueue([.. Enumerable.Range(5, 8).Select(i => Point("other", i))], PointPriority.Aggregates);
        pump.Enqueue([Point("kept", 13)], PointPriority.Aggregates);
        pump.Enqueue(Point("kept", 14));

        Assert.Equal(4, _metrics.Value("buffer_points"));
        Assert.Equal(0, _metrics.Value("points_dropped_overflow"));
        await pump.DrainAsync(TimeSpan.FromSeconds(10));
        pump.Enqueue([Point("other", 15), Point("other", 16)]);

        Assert.Equal(["kept", "kept", "kept", "kept"], sink.Written);
        Assert.Equal(4, _metrics.Value("points_written"));
        Assert.Equal(0, _metrics.Value("points_dropped_shutdown"));
        Assert.Equal(0, _metrics.Value("points_dropped_overflow"));
        Assert.Equal(new Dictionary<string, int> { ["kept"] = 1, ["other"] = 1 }, sink.Questions.ToDictionary());
    }

    [Fact]
    public async Task A_filter_that_throws_lets_that_measurement_through_and_the_producer_never_sees_the_exception()
    {
        var sink = new FilteringSink("kept");
        var pump = Pump(sink, new SinkPumpOptions { BatchSize = 10 });

        pump.Enqueue(Point(FilteringSink.Failing, 0));
        pump.Enqueue([Point("other", 1), Point(FilteringSink.Failing, 2)]);
        await pump.DrainAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([FilteringSink.Failing, FilteringSink.Failing], sink.Written);
        Assert.Equal(1, sink.Questions[FilteringSink.Failing]);
    }

    [Fact]
    public void Invalid_options_name_the_setting()
    {
        var error = Assert.Throws<ArgumentException>(() => Pump(new ScriptedSink(), new SinkPumpOptions { BufferLimit = 10, BatchSize = 20 }));

        Assert.Contains("Plugins:test:Buffer:BatchSize", error.Message, StringComparison.Ordinal);
    }

    private SinkPump Pump(IPointSink sink, SinkPumpOptions options) => new("test", sink, options, _metrics, NullLogger.Instance, _time);

    private static void Enqueue(SinkPump pump, long first, int count, PointPriority priority = PointPriority.Records) =>
        pump.Enqueue([.. Enumerable.Range(0, count).Select(i => Point("m", first + i))], priority);

    private static MetricPoint Point(string measurement, long timestamp) => new(measurement, [], [new Field("f", FieldValue.Integer(1))], timestamp);

    private static async Task Until(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "condition not met within 5 s");
    }

    private async Task AdvanceUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(10);
        }

        Assert.True(condition(), "condition not met");
    }
}
