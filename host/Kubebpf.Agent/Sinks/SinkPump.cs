using System.Collections.Concurrent;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Kubebpf.Agent.Sinks;

/// <summary>
/// What the host puts in front of every <see cref="IPointSink"/>: one bounded buffer per <see cref="PointPriority"/> that
/// producers fill without blocking, and one pump task that writes batches, the higher priority first, retrying failures
/// with exponential backoff and jitter (honouring <see cref="SinkWriteException.RetryAfter"/>) for as long as a buffer
/// still holds the batch. Every point is accounted for in exactly one of <c>points_written</c>,
/// <c>points_dropped_overflow</c> (split by queue in <c>aggregates_dropped_overflow</c> and <c>records_dropped_overflow</c>),
/// <c>points_dropped_error</c>, <c>points_dropped_shutdown</c>, or is still buffered (<c>buffer_points</c>). A sink
/// failure never escapes the pump, and a write that outlives <see cref="SinkPumpOptions.WriteTimeout"/> is abandoned
/// (counted in <c>write_timeouts</c>): the sink gets no other write until it returns, while its buffers keep their bounds.
/// A sink that is an <see cref="IMeasurementFilter"/> is handed only the measurements it accepts: the others are turned
/// away before its buffers and are in none of these counters, since the sink never wanted them.
/// </summary>
public sealed partial class SinkPump
{
    // Distinct measurement names are few (each plugin writes a handful); past this many, the filter is asked every time.
    private const int MaxRememberedMeasurements = 1024;

    private readonly string _name;
    private readonly IPointSink _sink;
    private readonly IMeasurementFilter? _filter;
    private readonly ConcurrentDictionary<string, bool> _accepted = new(StringComparer.Ordinal);
    private readonly TimeSpan _flushInterval;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PointBuffer[] _buffers; // indexed by PointPriority, highest first
    private readonly TimeSpan _writeTimeout;
    private readonly Counter _writeTimeouts;
    private readonly ResiliencePipeline _pipeline;
    private List<MetricPoint> _batch = [];
    private readonly SemaphoreSlim _pumping = new(1, 1);
    private readonly CancellationTokenSource _drainDeadline;
    private readonly Counter _written;
    private readonly Counter _droppedError;
    private readonly Counter _droppedShutdown;
    private readonly Counter _writeErrors;
    private readonly Counter _retries;
    private volatile bool _draining;
    private int _failedAttempts;
    private PointBuffer? _current;
    private Task? _abandonedWrite;

    /// <summary>Creates the pump of one sink; nothing is written until <see cref="RunAsync"/> or <see cref="DrainAsync"/>.</summary>
    /// <param name="name">The sink's plugin instance name, for logs and configuration messages.</param>
    /// <param name="sink">The sink; the pump is its only caller.</param>
    /// <param name="options">Buffer, batch and retry settings.</param>
    /// <param name="metrics">The instance's self-metrics; the pump registers its counters there.</param>
    /// <param name="logger">Where failures and recoveries are logged (once per streak, not per attempt).</param>
    /// <param name="time">Clock for the flush interval, backoff delays and the drain deadline.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public SinkPump(string name, IPointSink sink, SinkPumpOptions options, IAgentMetrics metrics, ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(name);
        _name = name;
        _sink = sink;
        _filter = sink as IMeasurementFilter;
        _flushInterval = options.FlushInterval;
        _logger = logger;
        _time = time;
        _drainDeadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);

        _written = metrics.Counter("points_written", "points the sink accepted");
        _droppedError = metrics.Counter("points_dropped_error", "points dropped because the sink failed them with a non-retryable error");
        _droppedShutdown = metrics.Counter("points_dropped_shutdown", "points still buffered when the shutdown deadline passed");
        _writeErrors = metrics.Counter("write_errors", "failed write attempts (each retry counts)");
        _retries = metrics.Counter("retries", "write attempts retried after a retryable failure");
        _writeTimeouts = metrics.Counter("write_timeouts", "writes abandoned after WriteTimeout (a sink that hangs); the sink gets no other write until the abandoned one returns");
        _writeTimeout = options.WriteTimeout;
        var overflow = metrics.Counter("points_dropped_overflow", "oldest points dropped because a buffer was full (destination slow or down), all queues");
        _buffers =
        [
            new PointBuffer(options.BufferLimit, options.AggregatesBufferBytes, options.BatchSize, options.BatchBytes,
                metrics.Counter("aggregates_dropped_overflow", "of points_dropped_overflow: aggregates and self-metrics (their queue was full)"), overflow),
            new PointBuffer(options.BufferLimit, options.RecordsBufferBytes, options.BatchSize, options.BatchBytes,
                metrics.Counter("records_dropped_overflow", "of points_dropped_overflow: call log records and profiles (their queue was full)"), overflow),
        ];
        metrics.Gauge("buffer_points", "points buffered for the sink, including the batch being written", () => BufferedPoints);
        metrics.Gauge("buffer_bytes", "estimated bytes of the points buffered for the sink", () => _buffers.Sum(b => b.Bytes));
        _pipeline = BuildRetryPipeline(options, time);
    }

    /// <summary>Points buffered, including the batch being written or retried.</summary>
    public int BufferedPoints => _buffers.Sum(b => b.Count);

    /// <summary>
    /// Queues a point without blocking (unless the sink's <see cref="IMeasurementFilter"/> turns it away); when its
    /// priority's buffer is full the oldest point there is dropped and counted. Thread-safe.
    /// </summary>
    public void Enqueue(MetricPoint point, PointPriority priority = PointPriority.Records)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (_filter is not null && !Accepts(point.Measurement))
        {
            return;
        }

        if (!_buffers[(int)priority].Add(point))
        {
            _droppedShutdown.Increment();
        }
    }

    /// <summary>
    /// Queues the points the sink accepts, in order, without blocking (one lock for the batch); overflow drops the oldest of
    /// that priority. Thread-safe.
    /// </summary>
    public void Enqueue(IReadOnlyList<MetricPoint> points, PointPriority priority = PointPriority.Records)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (_filter is not null)
        {
            points = Accepted(points);
        }

        if (points.Count > 0 && !_buffers[(int)priority].Add(points))
        {
            _droppedShutdown.Add(points.Count);
        }
    }

    /// <summary>
    /// Writes batches until <paramref name="stoppingToken"/> is cancelled or a drain has emptied the buffer. Never throws;
    /// call once. Cancelling abandons the write in flight, whose points stay buffered for <see cref="DrainAsync"/>.
    /// </summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _pumping.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _drainDeadline.Token);
            await PumpAsync(linked.Token).ConfigureAwait(false);
        }
        finally
        {
            _pumping.Release();
        }
    }

    /// <summary>
    /// Shutdown: writes everything buffered (batches no longer wait for the flush interval; retries go on) until the buffer is
    /// empty or <paramref name="deadline"/> has passed, then counts what is left in <c>points_dropped_shutdown</c> and stops
    /// accepting points (later ones are counted there too). Works whether <see cref="RunAsync"/> is running, has stopped, or never ran.
    /// </summary>
    public async Task DrainAsync(TimeSpan deadline)
    {
        _draining = true;
        _drainDeadline.CancelAfter(deadline > TimeSpan.Zero ? deadline : TimeSpan.Zero);
        foreach (var buffer in _buffers)
        {
            buffer.StartDraining();
        }

        await _pumping.WaitAsync().ConfigureAwait(false);
        try
        {
            // RunAsync has returned (drained, cancelled or never started): write what it left, within the same deadline.
            await PumpAsync(_drainDeadline.Token).ConfigureAwait(false);
            var dropped = _buffers.Sum(b => b.Close());
            if (dropped > 0)
            {
                _droppedShutdown.Add(dropped);
                LogDrainIncomplete(_name, dropped, deadline);
            }
        }
        finally
        {
            _pumping.Release();
        }
    }

    /// <summary>The filter's answer for <paramref name="measurement"/>, asked once and remembered (a failing filter accepts).</summary>
    private bool Accepts(string measurement)
    {
        if (_accepted.TryGetValue(measurement, out var accepted))
        {
            return accepted;
        }

        try
        {
            accepted = _filter!.Accepts(measurement);
        }
        catch (Exception ex)
        {
            LogFilterFailed(ex, _name, measurement);
            accepted = true;
        }

        if (_accepted.Count < MaxRememberedMeasurements)
        {
            _accepted.TryAdd(measurement, accepted);
        }

        return accepted;
    }

    /// <summary><paramref name="points"/> itself when the sink accepts all of them (the usual case: one measurement per list), else a copy of those it accepts.</summary>
    private IReadOnlyList<MetricPoint> Accepted(IReadOnlyList<MetricPoint> points)
    {
        var firstRejected = 0;
        while (firstRejected < points.Count && Accepts(points[firstRejected].Measurement))
        {
            firstRejected++;
        }

        if (firstRejected == points.Count)
        {
            return points;
        }

        var kept = new List<MetricPoint>(points.Count - 1);
        for (var i = 0; i < points.Count; i++)
        {
            if (i < firstRejected || (i > firstRejected && Accepts(points[i].Measurement)))
            {
                kept.Add(points[i]);
            }
        }

        return kept;
    }

    private ResiliencePipeline BuildRetryPipeline(SinkPumpOptions options, TimeProvider time) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<SinkWriteException>(),
                // Retry as long as a buffer holds points: overflow evicting all of them ends the retries (see AttemptAsync).
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Exception, options.MaxRetryDelay)),
                OnRetry = args =>
                {
                    _retries.Increment();
                    LogRetrying(_name, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    internal static TimeSpan? RetryAfter(Exception? error, TimeSpan max) =>
        error is SinkWriteException { RetryAfter: { } after } ? TimeSpan.FromTicks(Math.Clamp(after.Ticks, 0, max.Ticks)) : null;

    private async Task PumpAsync(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            var aggregatesWake = _buffers[0].WaitForBatch();
            var recordsWake = _buffers[1].WaitForBatch();
            if (aggregatesWake is not null && recordsWake is not null)
            {
                if (_draining)
                {
                    return; // drained
                }

                await WaitAsync(aggregatesWake, recordsWake, token).ConfigureAwait(false);
            }

            if (BufferedPoints > 0)
            {
                await WriteBatchAsync(token).ConfigureAwait(false);
            }
            else if (_draining)
            {
                return;
            }
        }
    }

    // Until a full batch is buffered in either queue, or the flush interval has passed.
    private async Task WaitAsync(Task aggregatesWake, Task recordsWake, CancellationToken token)
    {
        using var stopDelay = CancellationTokenSource.CreateLinkedTokenSource(token);
        var delay = Task.Delay(_flushInterval, _time, stopDelay.Token);
        await Task.WhenAny(aggregatesWake, recordsWake, delay).ConfigureAwait(false);
        await stopDelay.CancelAsync().ConfigureAwait(false);
    }

    private async Task WriteBatchAsync(CancellationToken token)
    {
        try
        {
            await _pipeline.ExecuteAsync(static (pump, ct) => pump.AttemptAsync(ct), this, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping: the batch stays buffered for the drain, or is counted when the buffer closes.
        }
        catch (Exception ex)
        {
            _droppedError.Add(_batch.Count);
            _current?.Complete();
            LogBatchDropped(ex, _name, _batch.Count, ex.Message);
        }
    }

    /// <summary>
    /// One attempt: the oldest batch of the highest-priority queue holding points, chosen anew at each attempt so that
    /// aggregates that arrive while a call-log batch is retried go first once the destination is back.
    /// </summary>
    private async ValueTask AttemptAsync(CancellationToken token)
    {
        if (_abandonedWrite is { IsCompleted: false })
        {
            throw new SinkWriteException($"an earlier write did not return within {_writeTimeout} and is still running");
        }

        _current = Array.Find(_buffers, b => b.SelectBatch() > 0);
        if (_current is null || !_current.BeginAttempt(_batch))
        {
            _current?.Complete(); // overflow evicted the whole batch while it waited to be retried; it was counted then
            return;
        }

        try
        {
            await WriteWithDeadlineAsync(token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SinkWriteException || (ex is OperationCanceledException && token.IsCancellationRequested))
        {
            _current.EndAttemptFailed();
            if (ex is SinkWriteException)
            {
                _writeErrors.Increment();
                if (_failedAttempts++ == 0)
                {
                    LogWriteFailing(_name, _batch.Count, ex.Message);
                }
            }

            throw;
        }
        catch
        {
            _writeErrors.Increment();
            throw;
        }

        _written.Add(_batch.Count);
        _current.Complete();
        if (_failedAttempts > 0)
        {
            LogRecovered(_name, _failedAttempts);
            _failedAttempts = 0;
        }
    }

    /// <summary>
    /// The sink's write, abandoned (but not forgotten) after the write timeout or when <paramref name="token"/> is
    /// cancelled, even if the sink ignores the token. Sinks are never called concurrently: while an abandoned write has
    /// not returned, attempts fail as retryable (see <see cref="AttemptAsync"/>).
    /// </summary>
    private async Task WriteWithDeadlineAsync(CancellationToken token)
    {
        var write = _sink.WriteAsync(_batch, token).AsTask();
        try
        {
            await write.WaitAsync(_writeTimeout, _time, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && !write.IsCompleted))
        {
            // The sink may still read the batch: the next attempt fills a new list.
            _abandonedWrite = write.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            _batch = [];
            if (ex is TimeoutException)
            {
                _writeTimeouts.Increment();
                LogWriteTimedOut(_name, _batch.Count, _writeTimeout);
                throw new SinkWriteException($"the write did not return within {_writeTimeout}", inner: ex);
            }

            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sink {Sink}: its measurement filter failed on {Measurement}; the sink gets those points")]
    private partial void LogFilterFailed(Exception error, string sink, string measurement);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sink {Sink}: a write of {Count} points did not return within {Timeout}; abandoned (its points stay buffered and are retried once the sink returns)")]
    private partial void LogWriteTimedOut(string sink, int count, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sink {Sink}: writing {Count} points failed; retrying with backoff while the buffer holds them: {Error}")]
    private partial void LogWriteFailing(string sink, int count, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sink {Sink}: attempt {Attempt} in {Delay}")]
    private partial void LogRetrying(string sink, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sink {Sink}: writes succeed again after {Failures} failed attempts")]
    private partial void LogRecovered(string sink, int failures);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sink {Sink}: dropped a batch of {Count} points after a non-retryable error: {Reason}")]
    private partial void LogBatchDropped(Exception error, string sink, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sink {Sink}: {Count} points were still buffered when the shutdown deadline ({Deadline}) passed; dropped")]
    private partial void LogDrainIncomplete(string sink, int count, TimeSpan deadline);
}
