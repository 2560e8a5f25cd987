using System.Net;
using System.Net.Http.Headers;
using System.Numerics;
using System.Text;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kubebpf.InfluxDb;

/// <summary>
/// Writes to InfluxDB 1.x: <c>POST /write?db=&amp;rp=&amp;precision=ns</c> with line protocol (unsigned values as integers,
/// which 1.x requires). Creates the database and its retention policy at the first write and whenever the server says they are missing.
/// One request per batch, no retries of its own: the host's pump retries what this throws as <see cref="SinkWriteException"/>.
/// A batch the server refuses as a whole is split in halves, as Telegraf does: on 413 (too large for the server's
/// <c>max-body-size</c>), and on a 400 that names no single point (a poison point whose error does not say which), so
/// that only the points the server refuses on their own are dropped and counted (<c>points_rejected</c>).
/// A 5xx (but 503) is an outage, retried whole, unless <c>/ping</c> says the server is up: then the batch is halved the
/// same way, and the points it fails on their own while taking the rest are poison, dropped and counted (<c>points_poisoned</c>).
/// </summary>
internal sealed partial class InfluxDbV1Sink : IPointSink, IDisposable
{
    private readonly InfluxDbSinkOptions _options;
    private readonly string _instance;
    private readonly HttpClient _http;
    private readonly Uri _writeUri;
    private readonly Uri _queryUri;
    private readonly LineProtocolBody _body;
    private readonly Counter _rejected;
    private readonly Counter _splits;
    private readonly Counter _poisoned;
    private readonly Uri _pingUri;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private bool _databaseReady;
    private DateTimeOffset _lastPoisonLog = DateTimeOffset.MinValue;
    private long _poisonedSinceLog;

    /// <summary>Poison points are logged at most this often, with the count since the last message.</summary>
    internal static readonly TimeSpan PoisonLogInterval = TimeSpan.FromMinutes(1);

    public InfluxDbV1Sink(IOptions<InfluxDbSinkOptions> options, PluginContext context, IAgentMetrics metrics, ILogger<InfluxDbV1Sink> logger, TimeProvider time)
        : this(options.Value, context.InstanceName, metrics, logger, time, new HttpClientHandler())
    {
    }

    internal InfluxDbV1Sink(InfluxDbSinkOptions options, string instance, IAgentMetrics metrics, ILogger logger, TimeProvider time, HttpMessageHandler handler)
    {
        _options = options;
        _instance = instance;
        _logger = logger;
        _time = time;
        _http = new HttpClient(handler) { Timeout = options.Timeout };
        if (InfluxDbSinkOptions.HasText(options.Username))
        {
            var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}"));
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", credentials);
        }

        var root = options.Url.TrimEnd('/');
        var rp = InfluxDbSinkOptions.HasText(options.RetentionPolicy) ? $"&rp={Uri.EscapeDataString(options.RetentionPolicy)}" : "";
        _writeUri = new Uri($"{root}/write?db={Uri.EscapeDataString(options.Database)}{rp}&precision=ns");
        _queryUri = new Uri($"{root}/query");
        _pingUri = new Uri($"{root}/ping");
        _body = new LineProtocolBody(LineProtocolOptions.InfluxDb1, metrics);
        _rejected = metrics.Counter("points_rejected", "points InfluxDB refused (400: field type conflict, unparsable, beyond retention; 413 for a single point); not retried");
        _splits = metrics.Counter("batches_split", "batches split in halves because InfluxDB refused them whole (413 too large, or a 400 naming no point)");
        _poisoned = metrics.Counter("points_poisoned", "points InfluxDB failed with a 5xx each time they were written alone, while it answered /ping and took the rest of their batch; dropped, not retried");
        _databaseReady = !options.CreateDatabase;
    }

    public async ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken)
    {
        var search = new PoisonSearch(batch.Count);
        await WritePartAsync(batch, search, cancellationToken).ConfigureAwait(false);
        if (search.Suspects.Count > 0)
        {
            await DropPoisonAsync(search, batch.Count, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WritePartAsync(IReadOnlyList<MetricPoint> batch, PoisonSearch search, CancellationToken cancellationToken)
    {
        if (_body.Encode(batch) == 0)
        {
            return;
        }

        if (!_databaseReady)
        {
            await CreateDatabaseAsync(cancellationToken).ConfigureAwait(false);
        }

        var (status, message, retryAfter) = await PostAsync(cancellationToken).ConfigureAwait(false);
        if (_options.CreateDatabase && IsMissingDatabase(status, message))
        {
            // Dropped by someone (or the server lost its meta data): create it again and resend once.
            LogDatabaseMissing(_instance, _options.Database, message);
            await CreateDatabaseAsync(cancellationToken).ConfigureAwait(false);
            (status, message, retryAfter) = await PostAsync(cancellationToken).ConfigureAwait(false);
        }

        if (IsServerError(status))
        {
            // An outage (the server or the proxy before it is down) is retried whole; a server that is up but keeps failing
            // this batch may be choking on a point in it, which must not block the queue behind it: look for it by halving.
            if (!await search.ServerUpAsync(this, cancellationToken).ConfigureAwait(false) || !search.MayFailAgain())
            {
                throw new SinkWriteException($"InfluxDB answered {(int)status} {status}: {message}");
            }

            if (batch.Count == 1)
            {
                search.Suspects.Add(new Suspect((int)status, message));
                return;
            }
        }
        else if (status is HttpStatusCode.NoContent or HttpStatusCode.OK)
        {
            search.Written += batch.Count;
        }

        if (batch.Count > 1 && (IsServerError(status) || IsRefusedWhole(status, message)))
        {
            // A retryable failure of the second half makes the pump resend both: InfluxDB overwrites the first half's points.
            _splits.Increment();
            LogSplitting(_instance, batch.Count, (int)status, message);
            var half = batch.Count / 2;
            await WritePartAsync(Slice(batch, 0, half), search, cancellationToken).ConfigureAwait(false);
            await WritePartAsync(Slice(batch, half, batch.Count - half), search, cancellationToken).ConfigureAwait(false);
            return;
        }

        HandleAnswer(status, message, retryAfter, batch.Count);
    }

    /// <summary>
    /// The points that kept failing on their own are poison only if the server took other points of the batch meanwhile and
    /// is still up now; otherwise the server fails every write (its cache full, its disk failing) and the batch is retried whole.
    /// </summary>
    private async Task DropPoisonAsync(PoisonSearch search, int batchSize, CancellationToken cancellationToken)
    {
        if (search.Written == 0 || !await PingAsync(cancellationToken).ConfigureAwait(false))
        {
            var first = search.Suspects[0];
            throw new SinkWriteException($"InfluxDB answered {first.Status} to each of {search.Suspects.Count} points written alone and took none of the other {batchSize - search.Suspects.Count}: {first.Message}");
        }

        _poisoned.Add(search.Suspects.Count);
        _poisonedSinceLog += search.Suspects.Count;
        var now = _time.GetUtcNow();
        if (now - _lastPoisonLog >= PoisonLogInterval)
        {
            var last = search.Suspects[^1];
            LogPoisoned(_instance, _poisonedSinceLog, last.Status, last.Message);
            _lastPoisonLog = now;
            _poisonedSinceLog = 0;
        }
    }

    /// <summary>Whether InfluxDB is up: <c>/ping</c> answers 204 (1.x, and 2.x's compatibility endpoint) without touching the database.</summary>
    private async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(_pingUri, cancellationToken).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.NoContent;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    // 503 says "unavailable" (overloaded, or a proxy without a backend): always an outage, retried after its Retry-After.
    private static bool IsServerError(HttpStatusCode status) => (int)status >= 500 && status != HttpStatusCode.ServiceUnavailable;

    private static bool IsRefusedWhole(HttpStatusCode status, string message) =>
        status == HttpStatusCode.RequestEntityTooLarge || (status == HttpStatusCode.BadRequest && !InfluxResponses.NamesRejectedPoints(message));

    private static MetricPoint[] Slice(IReadOnlyList<MetricPoint> batch, int start, int count)
    {
        var slice = new MetricPoint[count];
        for (var i = 0; i < count; i++)
        {
            slice[i] = batch[start + i];
        }

        return slice;
    }

    public void Dispose() => _http.Dispose();

    private readonly record struct Suspect(int Status, string Message);

    /// <summary>
    /// What one batch's write has learnt: whether the server is up (asked once), how many points it took, and the points
    /// that failed on their own. The failures allowed before the server takes any point are bounded, so a server failing
    /// every write costs a few requests per attempt rather than one per point.
    /// </summary>
    private sealed class PoisonSearch(int batchSize)
    {
        // Halving down to one point fails once per level; room for a few poison points on the way.
        private readonly int _failuresBeforeWrite = 4 * (BitOperations.Log2((uint)Math.Max(batchSize, 1)) + 2);
        private bool? _serverUp;
        private int _failures;

        public int Written { get; set; }

        public List<Suspect> Suspects { get; } = [];

        public async ValueTask<bool> ServerUpAsync(InfluxDbV1Sink sink, CancellationToken cancellationToken) =>
            _serverUp ??= await sink.PingAsync(cancellationToken).ConfigureAwait(false);

        public bool MayFailAgain() => Written > 0 || ++_failures <= _failuresBeforeWrite;
    }

    private void HandleAnswer(HttpStatusCode status, string message, TimeSpan? retryAfter, int batchSize)
    {
        switch ((int)status)
        {
            case 204 or 200:
                return;
            case 400 or 413:
                var rejected = InfluxResponses.RejectedPoints(message, batchSize);
                _rejected.Add(rejected);
                LogRejected(_instance, rejected, batchSize, message);
                return;
            case 401 or 403:
                throw new InvalidOperationException(
                    $"InfluxDB answered {(int)status} {status} to {_writeUri.GetLeftPart(UriPartial.Path)}: {message}. " +
                    $"Check Plugins:{_instance}:Username and Plugins:{_instance}:Password (or {InfluxDbSinkOptions.PasswordEnvironmentVariable}).");
            case 429 or 503:
                throw new SinkWriteException($"InfluxDB answered {(int)status} {status}: {message}", retryAfter);
            default:
                throw new InvalidOperationException($"InfluxDB answered {(int)status} {status} to a write of {batchSize} points: {message}");
        }
    }

    private async Task<(HttpStatusCode Status, string Message, TimeSpan? RetryAfter)> PostAsync(CancellationToken cancellationToken)
    {
        using var content = _body.ToContent(_options.GzipThresholdBytes);
        using var response = await SendAsync(_writeUri, content, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return (response.StatusCode, "", null);
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var retryAfter = InfluxResponses.ParseRetryAfter(response.Headers.TryGetValues("Retry-After", out var values) ? values.FirstOrDefault() : null, _time.GetUtcNow());
        return (response.StatusCode, InfluxResponses.ErrorMessage(body), retryAfter);
    }

    private async Task CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        var statement = $"CREATE DATABASE {Identifier(_options.Database)} WITH DURATION {_options.RetentionDuration} REPLICATION 1 NAME {Identifier(_options.RetentionPolicy)}";
        using var form = new FormUrlEncodedContent([new KeyValuePair<string, string>("q", statement)]);
        using var response = await SendAsync(_queryUri, form, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var message = InfluxResponses.ErrorMessage(body);
        switch ((int)response.StatusCode)
        {
            case 401 or 403:
                throw new InvalidOperationException(
                    $"InfluxDB answered {(int)response.StatusCode} to CREATE DATABASE: {message}. Check Plugins:{_instance}:Username and Plugins:{_instance}:Password " +
                    $"(the user needs admin rights to create the database), or create it yourself and set Plugins:{_instance}:CreateDatabase to false.");
            case >= 500 or 429:
                throw new SinkWriteException($"Creating database {_options.Database} failed: InfluxDB answered {(int)response.StatusCode}: {message}");
            case >= 300:
                throw new InvalidOperationException($"Creating database {_options.Database} failed: InfluxDB answered {(int)response.StatusCode}: {message}");
        }

        // Typically "retention policy conflicts with an existing policy": the user changed it on purpose, and writing still works.
        if (InfluxResponses.StatementError(body) is { } error)
        {
            LogCreateStatementError(_instance, _options.Database, error);
        }
        else
        {
            LogDatabaseCreated(_instance, _options.Database, _options.RetentionPolicy, _options.RetentionDuration);
        }

        _databaseReady = true;
    }

    private async Task<HttpResponseMessage> SendAsync(Uri uri, HttpContent content, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.PostAsync(uri, content, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new SinkWriteException($"InfluxDB at {uri.GetLeftPart(UriPartial.Authority)} is unreachable: {ex.Message}", inner: ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SinkWriteException($"InfluxDB at {uri.GetLeftPart(UriPartial.Authority)} did not answer within {_options.Timeout}", inner: ex);
        }
    }

    // "database not found" is a 404; a missing retention policy is a 500 "retention policy not found".
    private static bool IsMissingDatabase(HttpStatusCode status, string message) =>
        (status == HttpStatusCode.NotFound && message.Contains("database not found", StringComparison.Ordinal)) ||
        (status == HttpStatusCode.InternalServerError && message.Contains("retention policy not found", StringComparison.Ordinal));

    private static string Identifier(string name) => "\"" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    [LoggerMessage(Level = LogLevel.Information, Message = "InfluxDb {Instance}: database {Database} ready with retention policy {Policy} ({Duration})")]
    private partial void LogDatabaseCreated(string instance, string database, string policy, string duration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "InfluxDb {Instance}: CREATE DATABASE {Database} answered '{Error}'; the existing database and policy are kept")]
    private partial void LogCreateStatementError(string instance, string database, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "InfluxDb {Instance}: database {Database} is missing ({Message}); creating it again")]
    private partial void LogDatabaseMissing(string instance, string database, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "InfluxDb {Instance}: InfluxDB refused a batch of {Count} points whole ({Status}: {Message}); writing it in halves")]
    private partial void LogSplitting(string instance, int count, int status, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "InfluxDb {Instance}: dropped {Count} points (since the last such message, logged at most once a minute) that InfluxDB failed on their own while it was up and took the rest of their batches; last answer {Status}: {Message}")]
    private partial void LogPoisoned(string instance, long count, int status, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "InfluxDb {Instance}: InfluxDB rejected {Rejected} of {Count} points (not retried): {Message}")]
    private partial void LogRejected(string instance, int rejected, int count, string message);
}
