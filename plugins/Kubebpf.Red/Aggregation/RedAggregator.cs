using Kubebpf.Red.Resources;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.Options;

namespace Kubebpf.Red.Aggregation;

/// <summary>
/// Aggregates exchanges of every protocol into <c>&lt;protocol&gt;_red</c> points: one per (workload pod, direction,
/// protocol, canonical operation, normalised resource, and status when the protocol groups by it) with requests in the
/// window, plus one roll-up per (workload pod, direction, protocol) with operation, resource (and status) "*", merged
/// from the resource histograms at flush: the roll-up spans every status, so its percentiles stay those of all
/// requests. Series, workloads and resource tables idle for a whole window are dropped, so memory follows the active
/// set. One lock guards everything: event batches take it once per batch, and flush holds it while it reads and resets
/// the series it emits (a pass over each series' used buckets, no allocation per event).
/// </summary>
internal sealed class RedAggregator : IEventSubscriber<Exchange>, IFlushable
{
    /// <summary>Operation, resource and status tag of the roll-ups.</summary>
    public const string All = "*";

    // Both ends of a few routes: a load test's client and server sides, a keep-alive client's calls.
    private const int RecentSeriesCount = 4;

    private const double NsPerMs = 1e6;
    private const double NsPerSecond = 1e9;

    private readonly Lock _gate = new();
    private readonly int _maxRoutesPerWorkload;
    private readonly int _maxSeries;
    private readonly Counter _routesCollapsed;
    private readonly Counter _seriesOverflow;
    private readonly Counter _descriptorFailures;
    private readonly ObservedWorkload _unknown;

    // Metadata sources hand out the same identity instance for a pod, so a reference lookup usually answers;
    // the value-keyed map catches equal identities in new instances. Cleared every flush.
    private readonly Dictionary<WorkloadIdentity, ObservedWorkload> _byInstance = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<WorkloadKey, ObservedWorkload> _workloads = [];
    private readonly Dictionary<WorkloadNameKey, WorkloadResources> _resources = [];
    private readonly Dictionary<SeriesKey, WindowStats> _series = [];
    private readonly Dictionary<RollupKey, WindowStats> _rollups = [];

    // The series of the latest exchanges (see RecentSeries), tried before the lookups; valid in their window only.
    private readonly RecentSeries[] _recent = new RecentSeries[RecentSeriesCount];
    private int _nextRecent;

    private long _window;
    private int _seriesHeld;
    private long _windowStartUnixNs;

    public RedAggregator(IOptions<RedOptions> options, IAgentMetrics metrics, TimeProvider time)
    {
        _maxRoutesPerWorkload = options.Value.MaxRoutesPerWorkload;
        _maxSeries = options.Value.MaxSeries;
        _routesCollapsed = metrics.Counter(
            "routes_collapsed", "An exchange counted under resource {other} because its workload reached MaxRoutesPerWorkload in its protocol.");
        _seriesOverflow = metrics.Counter(
            "series_overflow", "An exchange left out of <protocol>_red because MaxSeries series were already active.");
        _descriptorFailures = metrics.Counter(
            "red_descriptor_failures", "An exchange left out of <protocol>_red because its protocol's CanonicalOperation or NormalizeResource threw.");
        metrics.Gauge("red_series", "Resource-level R.E.D. series held.", () => Volatile.Read(ref _seriesHeld));
        _unknown = new ObservedWorkload(ObservedWorkload.TagsOf(null), new WorkloadResources(_maxRoutesPerWorkload));
        _windowStartUnixNs = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * TimeSpan.NanosecondsPerTick;
    }

    public void OnEvents(ReadOnlySpan<Exchange> batch)
    {
        long collapsed = 0;
        long overflow = 0;
        long failures = 0;
        lock (_gate)
        {
            foreach (ref readonly var exchange in batch)
            {
                if (FindRecent(exchange) is { } recent)
                {
                    collapsed += recent.Collapsed ? 1 : 0;
                    recent.Stats!.Record(exchange.Outcome, exchange.DurationNs);
                    continue;
                }

                var workload = Observe(exchange.Workload);
                if (!TryKey(exchange, workload, out var key, out var wasCollapsed))
                {
                    failures++;
                    continue;
                }

                collapsed += wasCollapsed ? 1 : 0;
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

                Remember(exchange, stats, wasCollapsed);
                stats.Record(exchange.Outcome, exchange.DurationNs);
            }
        }

        Count(_routesCollapsed, collapsed);
        Count(_seriesOverflow, overflow);
        Count(_descriptorFailures, failures);
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

                points.Add(ToPoint(key.Workload, key.Direction, key.Protocol, key.Operation, key.Resource, key.Status, stats, windowEndUnixNs, windowSeconds));
                RollupOf(new RollupKey(key.Workload, key.Direction, key.Protocol)).Merge(stats);
                stats.Reset();
            }

            foreach (var (key, rollup) in _rollups)
            {
                if (rollup.Requests == 0)
                {
                    _rollups.Remove(key);
                    continue;
                }

                points.Add(ToPoint(key.Workload, key.Direction, key.Protocol, All, All, key.Protocol.RedGroupsByStatus ? All : null, rollup, windowEndUnixNs, windowSeconds));
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

    /// <summary>The remembered series of an exchange equal in everything its series depends on, in this window.</summary>
    private RecentSeries? FindRecent(in Exchange exchange)
    {
        foreach (ref readonly var recent in _recent.AsSpan())
        {
            if (recent.Stats is not null && recent.Window == _window && recent.Matches(exchange))
            {
                return recent;
            }
        }

        return null;
    }

    private void Remember(in Exchange exchange, WindowStats stats, bool collapsed)
    {
        _recent[_nextRecent] = new RecentSeries(
            exchange.Workload, exchange.Protocol, exchange.Operation, exchange.Resource, exchange.Status, exchange.Direction, _window, stats, collapsed);
        _nextRecent = (_nextRecent + 1) % RecentSeriesCount;
    }

    private static void Count(Counter counter, long value)
    {
        if (value > 0)
        {
            counter.Add(value);
        }
    }

    /// <summary>
    /// The series of <paramref name="exchange"/>, through its protocol's canonical operation and resource normaliser.
    /// False when the exchange has no protocol or the protocol's code threw: the exchange is another plugin's bad
    /// input, counted, and must not stop this subscriber.
    /// </summary>
    private bool TryKey(in Exchange exchange, ObservedWorkload workload, out SeriesKey key, out bool collapsed)
    {
        var protocol = exchange.Protocol;
        key = default;
        collapsed = false;
        if (protocol is null)
        {
            return false;
        }

        try
        {
            var operation = protocol.CanonicalOperation(exchange.Operation ?? string.Empty);
            if (operation is null)
            {
                return false;
            }

            var resource = workload.Resources.For(protocol, _window).Resolve(exchange.Resource, out collapsed);
            var status = protocol.RedGroupsByStatus ? exchange.Status ?? string.Empty : null;
            key = new SeriesKey(workload, exchange.Direction, protocol, operation, resource, status);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return false;
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
                workload = new ObservedWorkload(ObservedWorkload.TagsOf(identity), ResourcesOf(key.Workload));
                _workloads.Add(key, workload);
            }

            _byInstance.Add(identity, workload);
        }

        workload.LastUsedWindow = _window;
        workload.Resources.LastUsedWindow = _window;
        return workload;
    }

    private WorkloadResources ResourcesOf(WorkloadNameKey key)
    {
        if (!_resources.TryGetValue(key, out var resources))
        {
            resources = new WorkloadResources(_maxRoutesPerWorkload);
            _resources.Add(key, resources);
        }

        return resources;
    }

    private WindowStats RollupOf(RollupKey key)
    {
        if (!_rollups.TryGetValue(key, out var rollup))
        {
            rollup = new WindowStats();
            _rollups.Add(key, rollup);
        }

        return rollup;
    }

    // A workload unused in the closing window had no requests in it, so its series are gone already; dropping it and
    // its resources (when no other pod of the workload was used) loses nothing. The same holds for the table of a
    // protocol a used workload did not speak in the window.
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

        foreach (var (key, resources) in _resources)
        {
            if (resources.LastUsedWindow < _window)
            {
                _resources.Remove(key);
            }
            else
            {
                resources.DropIdle(_window);
            }
        }

        _unknown.Resources.DropIdle(_window);
    }

    private MetricPoint ToPoint(
        ObservedWorkload workload,
        TrafficDirection direction,
        ProtocolDescriptor protocol,
        string operation,
        string resource,
        string? status,
        WindowStats stats,
        long timestampUnixNs,
        double windowSeconds)
    {
        var tags = new Tag[workload.Tags.Length + (status is null ? 3 : 4)];
        workload.Tags.CopyTo(tags, 0);
        var count = WorkloadTags.Append(tags, workload.Tags.Length, "direction", WorkloadTags.Direction(direction));
        count = WorkloadTags.Append(tags, count, protocol.OperationTag, operation);
        count = WorkloadTags.Append(tags, count, protocol.ResourceTag, resource);
        if (status is not null)
        {
            count = WorkloadTags.Append(tags, count, protocol.StatusTag, status);
        }

        var requests = stats.Requests;
        var latency = stats.Latency;
        Field[] fields =
        [
            new("requests", FieldValue.Integer(requests)),
            new("rate", FieldValue.Float(requests / windowSeconds)),
            new(protocol.ClientErrorsField, FieldValue.Integer(stats.ClientErrors)),
            new(protocol.ErrorsField, FieldValue.Integer(stats.Errors)),
            new("error_rate", FieldValue.Float((double)stats.Errors / requests)),
            new("client_error_rate", FieldValue.Float((double)stats.ClientErrors / requests)),
            new("timeouts", FieldValue.Integer(stats.Timeouts)),
            new("latency_p50_ms", FieldValue.Float(latency.ValueAtQuantile(0.50) / NsPerMs)),
            new("latency_p90_ms", FieldValue.Float(latency.ValueAtQuantile(0.90) / NsPerMs)),
            new("latency_p99_ms", FieldValue.Float(latency.ValueAtQuantile(0.99) / NsPerMs)),
            new("latency_max_ms", FieldValue.Float(latency.MaxNs / NsPerMs)),
            new("latency_mean_ms", FieldValue.Float(latency.MeanNs / NsPerMs)),
            new("window_s", FieldValue.Float(windowSeconds)),
        ];
        return new MetricPoint(protocol.RedMeasurement, count == tags.Length ? tags : tags[..count], fields, timestampUnixNs);
    }
}

/// <summary>
/// An exchange's series as the lookups found it: workload, canonical operation and normalised resource cost a
/// normaliser call and four hash lookups per exchange, and consecutive exchanges mostly repeat a handful of series.
/// Within one window the answer cannot change for equal inputs: series, resource tables and workloads are only
/// dropped at a flush, which starts a new window, and a resource collapsed for a full table stays collapsed until then.
/// The workload and protocol are compared by reference (sources and parsers hand out one instance each), the strings
/// by value (each connection's parser has its own copy of a path).
/// </summary>
internal readonly record struct RecentSeries(
    WorkloadIdentity? Identity,
    ProtocolDescriptor? Protocol,
    string? Operation,
    string? Resource,
    string? Status,
    TrafficDirection Direction,
    long Window,
    WindowStats? Stats,
    bool Collapsed)
{
    public bool Matches(in Exchange exchange) =>
        ReferenceEquals(Identity, exchange.Workload) && ReferenceEquals(Protocol, exchange.Protocol) && Direction == exchange.Direction
        && string.Equals(Operation, exchange.Operation, StringComparison.Ordinal) && string.Equals(Resource, exchange.Resource, StringComparison.Ordinal)
        && string.Equals(Status, exchange.Status, StringComparison.Ordinal);
}
