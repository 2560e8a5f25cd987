using Kubebpf.Prometheus.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Snappier;

namespace Kubebpf.Prometheus.RemoteWrite;

/// <summary>
/// Every <see cref="RemoteWriteOptions.SendInterval"/> takes the current totals of every series as one write request
/// (compressed, stamped with the time taken) into a <see cref="WriteQueue"/>, and sends the queue oldest first. A send
/// that fails with 5xx, 429 or no answer keeps its request at the head and waits (1 s doubling up to
/// <see cref="RemoteWriteOptions.MaxRetryDelay"/>, or the Retry-After asked for); one refused with another 4xx is dropped
/// and counted. The samples are cumulative, so the first request through after an outage carries the totals even when
/// the bound dropped older ones. At shutdown one last request is taken and the queue gets one more try each: the host
/// stops a sink's probes after its final flush reached the sink, so that last request holds the last window.
/// An <see cref="IProbe"/> so that the host runs it on its own thread and stops it.
/// </summary>
internal sealed partial class RemoteWriter : IProbe
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ShutdownBudget = TimeSpan.FromSeconds(5);

    private readonly MetricCollector _collector;
    private readonly RemoteWriteClient _client;
    private readonly RemoteWriteOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RemoteWriter> _logger;
    private readonly WriteQueue _queue;
    private readonly KeyValuePair<string, string>[] _externalLabels;
    private readonly Counter _sent;
    private readonly Counter _samples;
    private readonly Counter _retries;
    private readonly Counter _rejected;
    private readonly Counter _dropped;
    private readonly Counter _droppedBytes;
    private int _lastStatus;
    private long _previousTake = long.MinValue;

    public RemoteWriter(
        IOptions<PrometheusOptions> options, MetricCollector collector, RemoteWriteClient client, IAgentMetrics metrics, TimeProvider time, ILogger<RemoteWriter> logger)
    {
        _options = options.Value.RemoteWrite;
        _collector = collector;
        _client = client;
        _time = time;
        _logger = logger;
        _queue = new WriteQueue(_options.MaxBufferBytes);
        _externalLabels = ExternalLabels(_options.ExternalLabels);
        _sent = metrics.Counter("remote_write_requests", "A write request the receiver accepted.");
        _samples = metrics.Counter("remote_write_samples", "A sample in a write request the receiver accepted.");
        _retries = metrics.Counter("remote_write_retries", "A send that failed with 5xx, 429, a timeout or a network error; the request is sent again.");
        _rejected = metrics.Counter("remote_write_rejected", "A write request dropped because the receiver refused it with a 4xx other than 429.");
        _dropped = metrics.Counter("remote_write_dropped", "A write request dropped unsent because MaxBufferBytes was full (oldest first).");
        _droppedBytes = metrics.Counter("remote_write_dropped_bytes", "Compressed bytes of the requests counted in remote_write_dropped.");
        metrics.Gauge("remote_write_buffered_requests", "Write requests waiting for the receiver.", () => _queue.Count);
        metrics.Gauge("remote_write_buffered_bytes", "Compressed bytes waiting for the receiver.", () => _queue.Bytes);
        metrics.Gauge("remote_write_last_status", "HTTP status of the last send; 0 when it got no answer.", () => Volatile.Read(ref _lastStatus));
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var nextTake = _time.GetUtcNow() + _options.SendInterval;
        var retryAt = DateTimeOffset.MinValue;
        var retryDelay = FirstRetryDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = _time.GetUtcNow();
            if (now >= nextTake)
            {
                Take(now);
                nextTake = Later(nextTake + _options.SendInterval, now);
            }

            while (_queue.Peek() is { } head && _time.GetUtcNow() >= retryAt && !stoppingToken.IsCancellationRequested)
            {
                SendResult result;
                try
                {
                    result = await SendAsync(head, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break; // shutdown: the request stays queued for the final send
                }

                if (result.Outcome == SendOutcome.Retry)
                {
                    var wait = result.RetryAfter ?? retryDelay;
                    retryAt = _time.GetUtcNow() + wait;
                    retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, _options.MaxRetryDelay.Ticks));
                    LogRetry(result.Reason, wait);
                    break;
                }

                retryDelay = FirstRetryDelay;
                _queue.Dequeue();
            }

            var wakeAt = _queue.Count > 0 && retryAt < nextTake ? retryAt : nextTake;
            var sleep = wakeAt - _time.GetUtcNow();
            if (sleep > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(sleep, _time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        await FinalSendAsync();
    }

    private async Task FinalSendAsync()
    {
        Take(_time.GetUtcNow());
        using var budget = new CancellationTokenSource(ShutdownBudget, _time);
        while (_queue.Peek() is { } head && !budget.IsCancellationRequested)
        {
            try
            {
                if ((await SendAsync(head, budget.Token)).Outcome == SendOutcome.Retry)
                {
                    break;
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }

            _queue.Dequeue();
        }

        if (_queue.Count > 0)
        {
            LogUnsentAtShutdown(_queue.Count);
        }
    }

    private void Take(DateTimeOffset now)
    {
        var takenAt = _time.GetTimestamp();
        var settings = new WriteSettings(now.ToUnixTimeMilliseconds(), _externalLabels, _options.NativeHistograms, _previousTake);
        var (body, samples) = WriteRequestEncoder.Encode(_collector.Collect(), settings);
        _previousTake = takenAt;
        var (requests, bytes) = _queue.Enqueue(new PendingRequest(Snappy.CompressToArray(body), samples));
        if (requests > 0)
        {
            _dropped.Add(requests);
            _droppedBytes.Add(bytes);
        }
    }

    private async Task<SendResult> SendAsync(PendingRequest request, CancellationToken cancellationToken)
    {
        var result = await _client.SendAsync(request.Body, cancellationToken);
        Volatile.Write(ref _lastStatus, result.Status);
        switch (result.Outcome)
        {
            case SendOutcome.Sent:
                _sent.Increment();
                _samples.Add(request.Samples);
                break;
            case SendOutcome.Rejected:
                _rejected.Increment();
                LogRejected(result.Reason);
                break;
            default:
                _retries.Increment();
                break;
        }

        return result;
    }

    private static DateTimeOffset Later(DateTimeOffset planned, DateTimeOffset now) => planned > now ? planned : now + TimeSpan.FromMilliseconds(1);

    /// <summary><c>job</c> and <c>instance</c> like a scrape would add, unless configured otherwise: series from several agents stay apart.</summary>
    private static KeyValuePair<string, string>[] ExternalLabels(Dictionary<string, string> configured)
    {
        var labels = new Dictionary<string, string>(configured, StringComparer.Ordinal);
        labels.TryAdd("job", "kubebpf");
        labels.TryAdd("instance", Environment.MachineName);
        return [.. labels.Where(l => !string.IsNullOrEmpty(l.Value)).Select(l => new KeyValuePair<string, string>(MetricNames.OfLabel(l.Key), l.Value))];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Remote write failed ({Reason}); retrying in {Wait}")]
    private partial void LogRetry(string reason, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Remote write refused ({Reason}); the request is dropped and counted in remote_write_rejected")]
    private partial void LogRejected(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: {Count} remote-write requests left unsent")]
    private partial void LogUnsentAtShutdown(int count);
}
