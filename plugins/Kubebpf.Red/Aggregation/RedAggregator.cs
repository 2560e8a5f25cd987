using Kubebpf.Red.Routing;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Options;

namespace Kubebpf.Red.Aggregation;

/// <summary>
/// Aggregates exchanges into <c>http_red</c> points: one per (workload pod, direction, method, route) with requests
/// in the window, plus one roll-up per (workload pod, direction) with method and route "*", merged from the route
/// histograms at flush. Series, workloads and route tables idle for a whole window are dropped, so memory follows
/// the active set. One lock guards everything: event batches take it once per batch, and flush holds it while it
/// reads and resets the series it emits (a pass over each series' used buckets, no allocation per event).
/// </summary>
internal sealed class RedAggregator : IEventSubscriber<HttpExchange>, IFlushable
{
    /// <summary>The measurement name.</summary>
    public const string Measurement = "http_red";

    /// <summary>Method and route tag of the per-workload roll-up.</summary>
    public const string AllRoutes = "*";

    private const double NsPerMs = 1e6;
    private const double NsPerSecond = 1e9;

    private readonly Lock _gate = new();
    private readonly int _maxRoutesPerWorkload;
    private readonly int _maxSeries;
    private readonly Counter _routesCollapsed;
    private readonly Counter _seriesOverflow;
    private readonly ObservedWorkload _unknown;

    // Metadata sources hand out the same identity instance for a pod, so a reference lookup usually answers;
    // the value-keyed map catches equal identities in new instances. Cleared every flush.
    private readonly Dictionary<WorkloadIdentity, ObservedWorkload> _byInstance = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<WorkloadKey, ObservedWorkload> _workloads = [];
    private readonly Dictionary<RouteTableKey, RouteTable> _routeTables = [];
    private readonly Dictionary<SeriesKey, WindowStats> _series = [];
    private readonly Dictionary<(ObservedWorkload Workload, TrafficDirection Direction), WindowStats> _rollups = [];

    private long _window;
    private int _seriesHeld;
    private long _windowStartUnixNs;

    public RedAggregator(IOptions<RedOptions> options, IAgentMetrics metrics, TimeProvider time)
    {
        _maxRoutesPerWorkload = options.Value.MaxRoutesPerWorkload;
        _maxSeries = options.Value.MaxSeries;
        _routesCollapsed = metrics.Counter(
            "routes_collapsed", "An exchange counted under route {other} because its workload reached MaxRoutesPerWorkload.");
        _seriesOverflow = metrics.Counter(
            "series_overflow", "An exchange left out of http_red because MaxSeries series were already active.");
        metrics.Gauge("red_series", "Route-level R.E.D. series held.", () => Volatile.Read(ref _seriesHeld));
        _unknown = new ObservedWorkload(ObservedWorkload.TagsOf(null), new RouteTable(_maxRoutesPerWorkload));
        _windowStartUnixNs = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * TimeSpan.NanosecondsPerTick;
    }

    public void OnEvents(ReadOnlySpan<HttpExchange> batch)
    {
        long collapsed = 0;
        long overflow = 0;
        lock (_gate)
        {
            foreach (ref readonly var exchange in batch)
            {
                var workload = Observe(exchange.Workload);
                var route = workload.Routes.Resolve(exchange.Path, out var wasCollapsed);
                collapsed += wasCollapsed ? 1 : 0;
                var key = new SeriesKey(workload, exchange.Direction, HttpMethods.Canonical(exchange.Method), route);
                if (!_series.TryGetValue(key, out var stats))
                {
                    if (_series.Count >= _maxSeries)
                    {
                        overflow++;
                        continue;
                    }

                    stats = new WindowStats();
                    _series.Add(key, stats);
                    Volatile.Write(ref _seriesHeld, _series.Count);
                }

                stats.Record(exchange.Status, exchange.DurationNs);
            }
        }

        if (collapsed > 0)
        {
            _routesCollapsed.Add(collapsed);
        }

        if (overflow > 0)
        {
            _seriesOverflow.Add(overflow);
        }
    }

    public void Flush(long windowEndUnixNs, IPointWriter output)
    {
        List<MetricPoint> points;
        lock (_gate)
        {
            var windowSeconds = Math.Max(windowEndUnixNs - _windowStartUnixNs, 1) / NsPerSecond;
            points = new List<MetricPoint>(_series.Count);
            foreach (var (key, stats) in _series)
            {
                if (stats.Requests == 0)
                {
                    _series.Remove(key);
                    continue;
                }

                points.Add(ToPoint(key.Workload, key.Direction, key.Method, key.Route, stats, windowEndUnixNs, windowSeconds));
                RollupOf(key.Workload, key.Direction).Merge(stats);
                stats.Reset();
            }

            foreach (var ((workload, direction), rollup) in _rollups)
            {
                if (rollup.Requests == 0)
                {
                    _rollups.Remove((workload, direction));
                    continue;
                }

                points.Add(ToPoint(workload, direction, AllRoutes, AllRoutes, rollup, windowEndUnixNs, windowSeconds));
                rollup.Reset();
            }

            DropIdle();
            _window++;
            _windowStartUnixNs = windowEndUnixNs;
        }

        if (points.Count > 0)
        {
            output.Write(points);
        }
    }

    private ObservedWorkload Observe(WorkloadIdentity? identity)
    {
        if (identity is null)
        {
            return _unknown;
        }

        if (!_byInstance.TryGetValue(identity, out var workload))
        {
            var key = WorkloadKey.Of(identity);
            if (!_workloads.TryGetValue(key, out workload))
            {
                workload = new ObservedWorkload(ObservedWorkload.TagsOf(identity), RoutesOf(key.RouteTable));
                _workloads.Add(key, workload);
            }

            _byInstance.Add(identity, workload);
        }

        workload.LastUsedWindow = _window;
        workload.Routes.LastUsedWindow = _window;
        return workload;
    }

    private RouteTable RoutesOf(RouteTableKey key)
    {
        if (!_routeTables.TryGetValue(key, out var routes))
        {
            routes = new RouteTable(_maxRoutesPerWorkload);
            _routeTables.Add(key, routes);
        }

        return routes;
    }

    private WindowStats RollupOf(ObservedWorkload workload, TrafficDirection direction)
    {
        if (!_rollups.TryGetValue((workload, direction), out var rollup))
        {
            rollup = new WindowStats();
            _rollups.Add((workload, direction), rollup);
        }

        return rollup;
    }

    // A workload unused in the closing window had no requests in it, so its series are gone already;
    // dropping it and its route table (when no other pod of the workload was used) loses nothing.
    private void DropIdle()
    {
        Volatile.Write(ref _seriesHeld, _series.Count);
        _byInstance.Clear();
        foreach (var (key, workload) in _workloads)
        {
            if (workload.LastUsedWindow < _window)
            {
                _workloads.Remove(key);
            }
        }

        foreach (var (key, routes) in _routeTables)
        {
            if (routes.LastUsedWindow < _window)
            {
                _routeTables.Remove(key);
            }
        }
    }

    private static MetricPoint ToPoint(
        ObservedWorkload workload,
        TrafficDirection direction,
        string method,
        string route,
        WindowStats stats,
        long timestampUnixNs,
        double windowSeconds)
    {
        var tags = new Tag[workload.Tags.Length + 3];
        workload.Tags.CopyTo(tags, 0);
        tags[^3] = new Tag("direction", WorkloadTags.Direction(direction));
        tags[^2] = new Tag("method", method);
        tags[^1] = new Tag("route", route);

        var requests = stats.Requests;
        var latency = stats.Latency;
        Field[] fields =
        [
            new("requests", FieldValue.Integer(requests)),
            new("rate", FieldValue.Float(requests / windowSeconds)),
            new("errors_4xx", FieldValue.Integer(stats.ClientErrors)),
            new("errors_5xx", FieldValue.Integer(stats.ServerErrors)),
            new("error_rate", FieldValue.Float((double)stats.ServerErrors / requests)),
            new("client_error_rate", FieldValue.Float((double)stats.ClientErrors / requests)),
            new("latency_p50_ms", FieldValue.Float(latency.ValueAtQuantile(0.50) / NsPerMs)),
            new("latency_p90_ms", FieldValue.Float(latency.ValueAtQuantile(0.90) / NsPerMs)),
            new("latency_p99_ms", FieldValue.Float(latency.ValueAtQuantile(0.99) / NsPerMs)),
            new("latency_max_ms", FieldValue.Float(latency.MaxNs / NsPerMs)),
            new("latency_mean_ms", FieldValue.Float(latency.MeanNs / NsPerMs)),
            new("window_s", FieldValue.Float(windowSeconds)),
        ];
        return new MetricPoint(Measurement, tags, fields, timestampUnixNs);
    }
}
