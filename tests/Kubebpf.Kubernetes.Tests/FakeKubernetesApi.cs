using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Kubernetes.Tests;

/// <summary>
/// A Kubernetes API server fake that speaks the real protocol over HTTP on 127.0.0.1, for the resources the plugin
/// watches: lists carry the store's resourceVersion; <c>?watch=true&amp;resourceVersion=N</c> streams, as JSON lines,
/// every change after N (ADDED / MODIFIED / DELETED with the object as it became), then live changes, BOOKMARK events
/// when asked with <c>allowWatchBookmarks=true</c>, and ends after <c>timeoutSeconds</c>. A watch from before the
/// compacted revision gets <c>410 Gone</c> as an ERROR event carrying a Status (or, in <see cref="GoneAsHttpStatus"/>
/// mode, as the HTTP status). Tests drop connections, restart the server on the same port and compact history.
/// </summary>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    public const string Pods = "/api/v1/pods";
    public const string Services = "/api/v1/services";
    public const string EndpointSlices = "/apis/discovery.k8s.io/v1/endpointslices";
    public const string ReplicaSets = "/apis/apps/v1/replicasets";
    public const string Jobs = "/apis/batch/v1/jobs";

    private static readonly Dictionary<string, (string Kind, string ApiVersion)> Kinds = new()
    {
        [Pods] = ("Pod", "v1"),
        [Services] = ("Service", "v1"),
        [EndpointSlices] = ("EndpointSlice", "discovery.k8s.io/v1"),
        [ReplicaSets] = ("ReplicaSet", "apps/v1"),
        [Jobs] = ("Job", "batch/v1"),
    };

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, JsonObject>> _objects = Kinds.Keys.ToDictionary(k => k, _ => new Dictionary<string, JsonObject>());
    private readonly List<Change> _history = [];
    private readonly List<Watcher> _watchers = [];
    private readonly List<string> _requests = [];
    private WebApplication? _app;
    private long _revision = 100;
    private long _compacted;

    public int Port { get; private set; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Answer a too-old watch with HTTP 410 instead of a 200 stream holding an ERROR event.</summary>
    public bool GoneAsHttpStatus { get; set; }

    /// <summary>Send a BOOKMARK to watchers that allow them this often (null: never).</summary>
    public TimeSpan? BookmarkInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Every request's path and query, in arrival order.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    public long Revision
    {
        get
        {
            lock (_lock)
            {
                return _revision;
            }
        }
    }

    public int OpenWatches
    {
        get
        {
            lock (_lock)
            {
                return _watchers.Count;
            }
        }
    }

    public static async Task<FakeKubernetesApi> StartAsync()
    {
        var api = new FakeKubernetesApi();
        await api.ListenAsync(0);
        return api;
    }

    /// <summary>A kubeconfig file naming this server (plain HTTP, a dummy token).</summary>
    public string WriteKubeConfig(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {Url}
            users:
            - name: agent
              user:
                token: fake-token
            contexts:
            - name: fake
              context:
                cluster: fake
                user: agent
            current-context: fake
            """);
        return path;
    }

    /// <summary>Creates or replaces an object (ADDED or MODIFIED), stamping a new resourceVersion.</summary>
    public void Apply(string resource, JsonObject item)
    {
        lock (_lock)
        {
            var key = Key(item);
            var type = _objects[resource].ContainsKey(key) ? "MODIFIED" : "ADDED";
            var stored = (JsonObject)item.DeepClone();
            stored["metadata"]!["resourceVersion"] = (++_revision).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _objects[resource][key] = stored;
            Record(new Change(_revision, resource, type, stored));
        }
    }

    public void Delete(string resource, string @namespace, string name)
    {
        lock (_lock)
        {
            if (_objects[resource].Remove($"{@namespace}/{name}", out var removed))
            {
                var final = (JsonObject)removed.DeepClone();
                final["metadata"]!["resourceVersion"] = (++_revision).ToString(System.Globalization.CultureInfo.InvariantCulture);
                Record(new Change(_revision, resource, "DELETED", final));
            }
        }
    }

    /// <summary>Forgets the history up to now, as etcd compaction does: watches from an older revision get 410.</summary>
    public void Compact()
    {
        lock (_lock)
        {
            _compacted = _revision;
            _history.Clear();
        }
    }

    /// <summary>Ends every open watch with an ERROR event holding a 410 Status (the watch cache lost its window).</summary>
    public void ExpireWatches()
    {
        lock (_lock)
        {
            Compact();
            foreach (var watcher in _watchers)
            {
                watcher.Events.Writer.TryWrite(GoneEvent(watcher.ResourceVersion));
                watcher.Events.Writer.TryComplete();
            }
        }
    }

    /// <summary>Aborts every open watch connection mid-stream (a TCP reset, no chunked terminator).</summary>
    public void DropConnections()
    {
        lock (_lock)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Context.Abort();
            }
        }
    }

    /// <summary>
    /// Stops the server (connections drop, new ones are refused), runs <paramref name="whileDown"/> (changes clients
    /// miss), and starts it again on the same port after <paramref name="downtime"/>.
    /// </summary>
    public async Task RestartAsync(TimeSpan downtime, Action? whileDown = null)
    {
        await StopAsync();
        whileDown?.Invoke();
        await Task.Delay(downtime);
        await ListenAsync(Port);
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StopAsync()
    {
        DropConnections();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    private async Task ListenAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        lock (_lock)
        {
            _requests.Add(path + context.Request.QueryString);
        }

        if (context.Request.Method != "GET" || !Kinds.ContainsKey(path))
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"the server could not find the requested resource ({path})");
            return;
        }

        var query = context.Request.Query;
        var selector = FieldSelector.Parse(query["fieldSelector"]);
        if (query["watch"] is ["true"] or ["1"])
        {
            await WatchAsync(context, path, selector, query);
        }
        else
        {
            await ListAsync(context, path, selector);
        }
    }

    private async Task ListAsync(HttpContext context, string resource, FieldSelector selector)
    {
        JsonObject list;
        lock (_lock)
        {
            var (kind, apiVersion) = Kinds[resource];
            list = new JsonObject
            {
                ["kind"] = kind + "List",
                ["apiVersion"] = apiVersion,
                ["metadata"] = new JsonObject { ["resourceVersion"] = _revision.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                ["items"] = new JsonArray([.. _objects[resource].Values.Where(selector.Matches).OrderBy(Key, StringComparer.Ordinal).Select(o => o.DeepClone())]),
            };
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(list.ToJsonString());
    }

    private async Task WatchAsync(HttpContext context, string resource, FieldSelector selector, IQueryCollection query)
    {
        var from = long.TryParse(query["resourceVersion"], out var parsed) ? parsed : Revision;
        var bookmarks = query["allowWatchBookmarks"] is ["true"];
        var timeout = int.TryParse(query["timeoutSeconds"], out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(30);
        var watcher = new Watcher(context, resource, selector, from);
        lock (_lock)
        {
            if (from < _compacted && GoneAsHttpStatus)
            {
                watcher = null;
            }
            else
            {
                if (from < _compacted)
                {
                    watcher.Events.Writer.TryWrite(GoneEvent(from));
                    watcher.Events.Writer.TryComplete();
                }
                else
                {
                    foreach (var change in _history.Where(c => c.Revision > from && c.Resource == resource && selector.Matches(c.Object)))
                    {
                        watcher.Events.Writer.TryWrite(Event(change.Type, change.Object));
                    }

                    _watchers.Add(watcher);
                }
            }
        }

        if (watcher is null)
        {
            await WriteStatusAsync(context, HttpStatusCode.Gone, "Expired", $"too old resource version: {from} ({Revision})");
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        using var ends = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        ends.CancelAfter(timeout);
        try
        {
            while (true)
            {
                var wait = BookmarkInterval is { } interval && bookmarks ? interval : Timeout.InfiniteTimeSpan;
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(ends.Token);
                tick.CancelAfter(wait);
                string line;
                try
                {
                    if (!await watcher.Events.Reader.WaitToReadAsync(tick.Token))
                    {
                        break;
                    }

                    line = await watcher.Events.Reader.ReadAsync(tick.Token);
                }
                catch (OperationCanceledException) when (!ends.IsCancellationRequested)
                {
                    line = Bookmark(resource);
                }

                await context.Response.WriteAsync(line + "\n", ends.Token);
                await context.Response.Body.FlushAsync(ends.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // the watch timed out or the client went away: end the stream
        }
        finally
        {
            lock (_lock)
            {
                _watchers.Remove(watcher);
            }
        }
    }

    private void Record(Change change)
    {
        _history.Add(change);
        foreach (var watcher in _watchers.Where(w => w.Resource == change.Resource && w.Selector.Matches(change.Object)))
        {
            watcher.Events.Writer.TryWrite(Event(change.Type, change.Object));
        }
    }

    private string Bookmark(string resource)
    {
        var (kind, apiVersion) = Kinds[resource];
        var bookmark = new JsonObject
        {
            ["kind"] = kind,
            ["apiVersion"] = apiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = Revision.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
        return Event("BOOKMARK", bookmark);
    }

    private static string Event(string type, JsonObject item) =>
        new JsonObject { ["type"] = type, ["object"] = item.DeepClone() }.ToJsonString();

    private string GoneEvent(long from) => new JsonObject
    {
        ["type"] = "ERROR",
        ["object"] = StatusObject(HttpStatusCode.Gone, "Expired", $"too old resource version: {from} ({_revision})"),
    }.ToJsonString();

    private static JsonObject StatusObject(HttpStatusCode code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = (int)code,
    };

    private static async Task WriteStatusAsync(HttpContext context, HttpStatusCode code, string reason, string message)
    {
        context.Response.StatusCode = (int)code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(StatusObject(code, reason, message).ToJsonString(), Encoding.UTF8);
    }

    private static string Key(JsonObject item) => $"{item["metadata"]?["namespace"]}/{item["metadata"]?["name"]}";

    private sealed record Change(long Revision, string Resource, string Type, JsonObject Object);

    private sealed class Watcher(HttpContext context, string resource, FieldSelector selector, long resourceVersion)
    {
        public HttpContext Context { get; } = context;

        public string Resource { get; } = resource;

        public FieldSelector Selector { get; } = selector;

        public long ResourceVersion { get; } = resourceVersion;

        public Channel<string> Events { get; } = Channel.CreateUnbounded<string>();
    }

    /// <summary>The field selectors the plugin sends: <c>spec.nodeName=NAME</c> (empty matches everything).</summary>
    private sealed record FieldSelector(string? NodeName)
    {
        public static FieldSelector Parse(string? text) =>
            new(text is { Length: > 0 } && text.StartsWith("spec.nodeName=", StringComparison.Ordinal) ? text["spec.nodeName=".Length..] : null);

        public bool Matches(JsonObject item) => NodeName is null || (string?)item["spec"]?["nodeName"] == NodeName;
    }
}
