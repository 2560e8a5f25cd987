using System.Diagnostics;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Kubernetes.Cache;

/// <summary>
/// Keeps a <see cref="ResourceStore{TRecord}"/> equal to one API resource, the way the API documents it
/// ("Efficient detection of changes"): list, then watch from the list's resourceVersion with bookmarks; on
/// <c>410 Gone</c> (an ERROR event with a Status of code 410, or the HTTP status) list again; when a watch ends or
/// drops, resume from the last resourceVersion seen, after a jittered exponential backoff when it failed.
/// </summary>
internal sealed partial class Reflector<TObject, TRecord>
    where TObject : IKubernetesObject<V1ObjectMeta>
    where TRecord : class
{
    /// <summary>Lists the resource at a resourceVersion ("0": any recent state, from the API server's cache; "": the latest).</summary>
    public delegate Task<(IList<TObject> Items, string ResourceVersion)> ListFunc(string resourceVersion, CancellationToken cancellationToken);

    /// <summary>Watches from a resourceVersion with bookmarks for at most timeoutSeconds.</summary>
    public delegate IAsyncEnumerable<(WatchEventType, TObject)> WatchFunc(
        string resourceVersion, int timeoutSeconds, Action<Exception> onError, CancellationToken cancellationToken);

    private static readonly TimeSpan ListTimeout = TimeSpan.FromSeconds(60);
    private readonly string _resource;
    private readonly ListFunc _list;
    private readonly WatchFunc _watch;
    private readonly Func<TObject, TRecord?> _project;
    private readonly ResourceStore<TRecord> _store;
    private readonly KubernetesOptions _options;
    private readonly ReflectorCounters _counters;
    private readonly ILogger _logger;

    public Reflector(string resource, ListFunc list, WatchFunc watch, Func<TObject, TRecord?> project, ResourceStore<TRecord> store,
        KubernetesOptions options, ReflectorCounters counters, ILogger logger)
    {
        _resource = resource;
        _list = list;
        _watch = watch;
        _project = project;
        _store = store;
        _options = options;
        _counters = counters;
        _logger = logger;
    }

    /// <summary>The resourceVersion the next watch resumes from; null before the first list and after a 410.</summary>
    public string? ResourceVersion { get; private set; }

    /// <summary>Runs until cancelled; never throws anything else (failures are logged, counted and retried).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        var consistentList = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (ResourceVersion is null)
                {
                    await ListAsync(consistentList, cancellationToken);
                    consistentList = false;
                }

                var started = Stopwatch.StartNew();
                var outcome = await WatchAsync(cancellationToken);
                if (outcome == WatchOutcome.Expired)
                {
                    consistentList = true;
                    continue;
                }

                // A watch the server ended normally (its timeout) resumes at once; one that ended at once counts as failed,
                // so that a server closing every watch is not hammered.
                failures = outcome == WatchOutcome.Ended && started.Elapsed > TimeSpan.FromSeconds(1) ? 0 : failures + 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Gone)
            {
                Expire($"HTTP 410 on {_resource}");
                consistentList = true;
                continue;
            }
            catch (Exception e)
            {
                failures++;
                _counters.Errors.Increment();
                LogWatchFailed(_resource, Describe(e), failures);
            }

            if (failures > 0)
            {
                try
                {
                    await Task.Delay(Backoff(failures), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Full jitter over the upper half: MinBackoff·2^(n-1), capped at MaxBackoff, times 0.5-1.</summary>
    internal TimeSpan Backoff(int failures)
    {
        var ceiling = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private async Task ListAsync(bool consistent, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ListTimeout);
        var (items, resourceVersion) = await _list(consistent ? "" : "0", timeout.Token);
        var records = new List<KeyValuePair<string, TRecord>>(items.Count);
        foreach (var item in items)
        {
            if (_project(item) is { } record)
            {
                records.Add(new(Key(item), record));
            }
        }

        _store.Replace(records);
        ResourceVersion = resourceVersion;
        _counters.Lists.Increment();
        LogListed(_resource, records.Count, resourceVersion);
    }

    private async Task<WatchOutcome> WatchAsync(CancellationToken cancellationToken)
    {
        // Like client-go: a server-side timeout of 5-10 minutes spreads reconnections; the client gives the server a
        // minute more before it takes a silent connection for dead.
        var timeoutSeconds = 300 + Random.Shared.Next(300);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds + 60));
        Exception? streamError = null;
        await foreach (var (type, item) in _watch(ResourceVersion!, timeoutSeconds, e => streamError ??= e, deadline.Token))
        {
            Apply(type, item);
            if (item.Metadata?.ResourceVersion is { Length: > 0 } version)
            {
                ResourceVersion = version;
            }
        }

        switch (streamError)
        {
            case KubernetesException { Status.Code: (int)HttpStatusCode.Gone } gone:
                Expire(gone.Status.Message ?? "410 Gone");
                return WatchOutcome.Expired;
            case null:
                _counters.Resumes.Increment();
                return WatchOutcome.Ended;
            default:
                throw streamError;
        }
    }

    private void Apply(WatchEventType type, TObject item)
    {
        switch (type)
        {
            case WatchEventType.Added or WatchEventType.Modified:
                if (_project(item) is { } record)
                {
                    _store.Upsert(Key(item), record);
                }
                else
                {
                    _store.Remove(Key(item));
                }

                break;
            case WatchEventType.Deleted:
                _store.Remove(Key(item));
                break;
            case WatchEventType.Bookmark:
                _counters.Bookmarks.Increment();
                break;
        }
    }

    private void Expire(string reason)
    {
        ResourceVersion = null;
        _counters.Expired.Increment();
        LogExpired(_resource, reason);
    }

    private static string Key(TObject item) => $"{item.Metadata.NamespaceProperty}/{item.Metadata.Name}";

    private static string Describe(Exception e) => e switch
    {
        HttpOperationException http => $"HTTP {(int)http.Response.StatusCode} {http.Response.ReasonPhrase}: {http.Response.Content}",
        _ => e.InnerException is null ? e.Message : $"{e.Message} ({e.InnerException.Message})",
    };

    private enum WatchOutcome
    {
        Ended,
        Expired,
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listed {Count} {Resource} at resourceVersion {ResourceVersion}")]
    private partial void LogListed(string resource, int count, string resourceVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Resource} watch expired ({Reason}): listing again")]
    private partial void LogExpired(string resource, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watching {Resource} failed ({Error}); attempt {Failures} resumes after a backoff")]
    private partial void LogWatchFailed(string resource, string error, int failures);
}

/// <summary>The self-metrics all reflectors of a plugin instance share.</summary>
internal sealed class ReflectorCounters(IAgentMetrics metrics)
{
    public Counter Lists { get; } = metrics.Counter("api_lists", "full lists of a resource (start-up, and after each 410 Gone)");

    public Counter Expired { get; } = metrics.Counter("api_watch_expired", "watches answered 410 Gone: their resourceVersion was too old, so the resource was listed again");

    public Counter Errors { get; } = metrics.Counter("api_errors", "failed lists or watches (dropped connection, API unreachable, denied); retried with backoff");

    public Counter Resumes { get; } = metrics.Counter("api_watch_resumes", "watches the server ended normally, resumed from the last resourceVersion");

    public Counter Bookmarks { get; } = metrics.Counter("api_bookmarks", "BOOKMARK events received (they only advance the resourceVersion)");
}
