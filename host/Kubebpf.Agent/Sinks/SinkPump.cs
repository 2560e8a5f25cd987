using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Kubebpf.Agent.Sinks;

/// <summary>
/// What the host puts in front of every <see cref="IPointSink"/>: a bounded buffer that producers fill without blocking,
/// and one pump task that writes batches, retrying failures with exponential backoff and jitter (honouring
/// <see cref="SinkWriteException.RetryAfter"/>) for as long as the buffer still holds the batch. Every point is
/// accounted for in exactly one of <c>points_written</c>, <c>points_dropped_overflow</c>, <c>points_dropped_error</c>,
/// <c>points_dropped_shutdown</c>, or is still buffered (<c>buffer_points</c>). A sink failure never escapes the pump.
/// </summary>
public sealed partial class SinkPump
{
    private readonly string _name;
    private readonly IPointSink _sink;
    private readonly TimeSpan _flushInterval;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PointBuffer _buffer;
    private readonly ResiliencePipeline _pipeline;
    private readonly List<MetricPoint> _batch = [];
    private readonly SemaphoreSlim _pumping = new(1, 1);
    private readonly CancellationTokenSource _drainDeadline;
    private readonly Counter _written;
    private readonly Counter _droppedError;
    private readonly Counter _droppedShutdown;
    private readonly Counter _writeErrors;
    private readonly Counter _retries;
    private volatile bool _draining;
    private int _failedAttempts;

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
        _flushInterval = options.FlushInterval;
        _logger = logger;
        _time = time;
        _drainDeadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);

        _written = metrics.Counter("points_written", "points the sink accepted");
        _droppedError = metrics.Counter("points_dropped_error", "points dropped because the sink failed them with a non-retryable error");
        _droppedShutdown = metrics.Counter("points_dropped_shutdown", "points still buffered when the shutdown deadline passed");
        _writeErrors = metrics.Counter("write_errors", "failed write attempts (each retry counts)");
        _retries = metrics.Counter("retries", "write attempts retried after a retryable failure");
        var overflow = metrics.Counter("points_dropped_overflow", "oldest points dropped because the buffer was full (destination slow or down)");
        _buffer = new PointBuffer(options.BufferLimit, options.BatchSize, overflow);
        metrics.Gauge("buffer_points", "points buffered for the sink, including the batch being written", () => _buffer.Count);
        _pipeline = BuildRetryPipeline(options, time);
    }

    /// <summary>Points buffered, including the batch being written or retried.</summary>
    public int BufferedPoints => _buffer.Count;

    /// <summary>Queues a point without blocking; when the buffer is full the oldest point is dropped and counted. Thread-safe.</summary>
    public void Enqueue(MetricPoint point)
    {
        if (!_buffer.Add(point))
        {
            _droppedShutdown.Increment();
        }
    }

    /// <summary>Queues points in order without blocking (one lock for the batch); overflow drops the oldest. Thread-safe.</summary>
    public void Enqueue(IReadOnlyList<MetricPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (!_buffer.Add(points))
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
        _buffer.StartDraining();
        await _pumping.WaitAsync().ConfigureAwait(false);
        try
        {
            // RunAsync has returned (drained, cancelled or never started): write what it left, within the same deadline.
            await PumpAsync(_drainDeadline.Token).ConfigureAwait(false);
            var dropped = _buffer.Close();
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

    private ResiliencePipeline BuildRetryPipeline(SinkPumpOptions options, TimeProvider time) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<SinkWriteException>(),
                // Retry as long as the buffer holds the batch: overflow evicting all of it ends the retries (see AttemptAsync).
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
            if (_buffer.WaitForBatch() is { } wake)
            {
                if (_draining)
                {
                    return; // drained
                }

                await WaitAsync(wake, token).ConfigureAwait(false);
            }

            if (_buffer.SelectBatch() > 0)
            {
                await WriteBatchAsync(token).ConfigureAwait(false);
            }
            else if (_draining)
            {
                return;
            }
        }
    }

    // Until a full batch is buffered, or the flush interval has passed.
    private async Task WaitAsync(Task wake, CancellationToken token)
    {
        using var stopDelay = CancellationTokenSource.CreateLinkedTokenSource(token);
        var delay = Task.Delay(_flushInterval, _time, stopDelay.Token);
        await Task.WhenAny(wake, delay).ConfigureAwait(false);
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
            _buffer.Complete();
            LogBatchDropped(ex, _name, _batch.Count, ex.Message);
        }
    }

    private async ValueTask AttemptAsync(CancellationToken token)
    {
        if (!_buffer.BeginAttempt(_batch))
        {
            _buffer.Complete(); // overflow evicted the whole batch while it waited to be retried; it was counted then
            return;
        }

        try
        {
            await _sink.WriteAsync(_batch, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SinkWriteException || (ex is OperationCanceledException && token.IsCancellationRequested))
        {
            _buffer.EndAttemptFailed();
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
        _buffer.Complete();
        if (_failedAttempts > 0)
        {
            LogRecovered(_name, _failedAttempts);
            _failedAttempts = 0;
        }
    }

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
