using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Core.Exceptions;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kubebpf.InfluxDb;

/// <summary>
/// Writes to InfluxDB 2.x (<c>POST /api/v2/write?org=&amp;bucket=&amp;precision=ns</c>) through InfluxDB.Client's
/// <see cref="WriteApiAsync"/>: one request per batch and no retries of its own (its batching <c>WriteApi</c> would retry
/// too, stacking on the host's retries). Answers are mapped to <see cref="SinkWriteException"/> (retry) or other exceptions (drop).
/// </summary>
internal sealed partial class InfluxDbV2Sink : IPointSink, IDisposable
{
    private readonly InfluxDbSinkOptions _options;
    private readonly string _instance;
    private readonly HttpClient _http;
    private readonly InfluxDBClient _client;
    private readonly WriteApiAsync _writeApi;
    private readonly LineProtocolBody _body;
    private readonly Counter _rejected;
    private readonly ILogger _logger;

    public InfluxDbV2Sink(IOptions<InfluxDbSinkOptions> options, PluginContext context, IAgentMetrics metrics, ILogger<InfluxDbV2Sink> logger, TimeProvider time)
        : this(options.Value, context.InstanceName, metrics, logger, time)
    {
    }

    internal InfluxDbV2Sink(InfluxDbSinkOptions options, string instance, IAgentMetrics metrics, ILogger logger, TimeProvider time)
    {
        _options = options;
        _instance = instance;
        _logger = logger;
        _http = new HttpClient(new RetryAfterSecondsHandler(time)) { Timeout = options.Timeout };
        _client = new InfluxDBClient(new InfluxDBClientOptions(options.Url)
        {
            Token = options.Token,
            Org = options.Org,
            Bucket = options.Bucket,
            Timeout = options.Timeout,
            HttpClient = _http,
        });
        _writeApi = _client.GetWriteApiAsync();
        _body = new LineProtocolBody(LineProtocolOptions.Default, metrics);
        _rejected = metrics.Counter("points_rejected", "points InfluxDB refused (400: field type conflict, unparsable, beyond retention); not retried");
    }

    public async ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken)
    {
        if (_body.Encode(batch) == 0)
        {
            return;
        }

        // The client compresses all or nothing; writes are never concurrent, so switching per batch is safe.
        if (_body.Text.Length >= _options.GzipThresholdBytes)
        {
            _client.EnableGzip();
        }
        else
        {
            _client.DisableGzip();
        }

        try
        {
            await _writeApi.WriteRecordAsync(_body.AsString(), WritePrecision.Ns, _options.Bucket, _options.Org, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpException ex) when (ex.Status == 400)
        {
            var rejected = InfluxResponses.RejectedPoints(ex.Message, batch.Count);
            _rejected.Add(rejected);
            LogRejected(_instance, rejected, batch.Count, InfluxResponses.ForLog(ex.Message));
        }
        catch (HttpException ex) when (ex.Status is 401 or 403)
        {
            throw new InvalidOperationException(
                $"InfluxDB answered {ex.Status} to a write to bucket {_options.Bucket} of org {_options.Org}: {InfluxResponses.ForLog(ex.Message)}. " +
                $"Check Plugins:{_instance}:Token (or {InfluxDbSinkOptions.TokenEnvironmentVariable}): it needs write permission on the bucket.");
        }
        catch (HttpException ex) when (ex.Status is 429 or 503)
        {
            throw new SinkWriteException($"InfluxDB answered {ex.Status}: {InfluxResponses.ForLog(ex.Message)}", RetryAfter(ex));
        }
        catch (HttpException ex) when (ex.Status is >= 500 or 0)
        {
            // Status 0: no answer at all (connection refused, reset, timeout).
            throw new SinkWriteException($"InfluxDB at {_options.Url} failed: {(ex.Status == 0 ? "" : $"{ex.Status} ")}{InfluxResponses.ForLog(ex.Message)}");
        }
        catch (HttpException ex)
        {
            throw new InvalidOperationException($"InfluxDB answered {ex.Status} to a write of {batch.Count} points to bucket {_options.Bucket}: {InfluxResponses.ForLog(ex.Message)}");
        }
        catch (HttpRequestException ex)
        {
            throw new SinkWriteException($"InfluxDB at {_options.Url} is unreachable: {ex.Message}", inner: ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SinkWriteException($"InfluxDB at {_options.Url} did not answer within {_options.Timeout}", inner: ex);
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _http.Dispose();
    }

    // RetryAfterSecondsHandler has turned an HTTP date into seconds, the only form the client parses.
    private static TimeSpan? RetryAfter(HttpException ex) => ex.RetryAfter is { } seconds ? TimeSpan.FromSeconds(seconds) : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "InfluxDb {Instance}: InfluxDB rejected {Rejected} of {Count} points (not retried): {Message}")]
    private partial void LogRejected(string instance, int rejected, int count, string message);
}
