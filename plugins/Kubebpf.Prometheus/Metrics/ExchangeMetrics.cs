using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.Options;

namespace Kubebpf.Prometheus.Metrics;

/// <summary>
/// Counts the exchanges of every protocol into cumulative series: per (observed workload pod, direction, canonical
/// operation, normalised resource, status) one request counter and one duration histogram, named by the exchange's
/// protocol descriptor (<c>kubebpf_http_requests_total</c>, <c>kubebpf_http_request_duration_seconds</c>). The counter is
/// the histogram's count, kept once. Series idle for <see cref="PrometheusOptions.SeriesIdleTimeout"/> are removed at
/// the host's flush. One lock: event batches take it once per batch, collection while it copies the values.
/// </summary>
internal sealed class ExchangeMetrics : IEventSubscriber<Exchange>, IFlushable, IMetricSource
{
    private const string UnknownWorkload = "unknown";

    private readonly Lock _gate = new();
    private readonly SeriesBudget _budget;
    private readonly TimeProvider _time;
    private readonly int _maxRoutes;
    private readonly SeriesExpiry _expiry;
    private readonly Counter _routesCollapsed;
    private readonly Counter _descriptorFailures;
    private readonly Dictionary<SeriesKey, ExchangeSeries> _series = [];
    private readonly Dictionary<RouteTableKey, RouteTable> _routes = [];
    private readonly Dictionary<ProtocolDescriptor, (MetricFamily Requests, MetricFamily Duration)> _families = [];

    public ExchangeMetrics(IOptions<PrometheusOptions> options, SeriesBudget budget, IAgentMetrics metrics, TimeProvider time)
    {
        _budget = budget;
        _time = time;
        _maxRoutes = options.Value.MaxRoutesPerWorkload;
        _routesCollapsed = metrics.Counter(
            "routes_collapsed", "An exchange counted under resource {other} because its workload reached MaxRoutesPerWorkload in its protocol.");
        _descriptorFailures = metrics.Counter(
            "descriptor_failures", "An exchange not counted because its protocol's CanonicalOperation or NormalizeResource threw.");
        _expiry = new SeriesExpiry(
            options.Value.SeriesIdleTimeout, time, budget, metrics.Counter("expired_series", "A series removed after SeriesIdleTimeout without a new sample."));
    }

    public void OnEvents(ReadOnlySpan<Exchange> batch)
    {
        var now = _time.GetTimestamp();
        long collapsed = 0;
        long failures = 0;
        lock (_gate)
        {
            foreach (ref readonly var exchange in batch)
            {
                if (!TryKey(exchange, now, out var key, out var wasCollapsed))
                {
                    failures++;
                    continue;
                }

                collapsed += wasCollapsed ? 1 : 0;
                if (!_series.TryGetValue(key, out var series))
                {
                    if (!_budget.TryTake())
                    {
                        continue;
                    }

                    series = new ExchangeSeries(key.Labels(), SeriesOrigin.Now(_time));
                    _series.Add(key, series);
                }

                series.Observe(exchange.DurationNs, now);
            }
        }

        if (collapsed > 0)
        {
            _routesCollapsed.Add(collapsed);
        }

        if (failures > 0)
        {
            _descriptorFailures.Add(failures);
        }
    }

    /// <summary>Removes idle series and route tables; emits nothing (the values are read by scrape and remote write).</summary>
    public void Flush(long windowEndUnixNs, IPointWriter output)
    {
        int removed;
        lock (_gate)
        {
            removed = _expiry.RemoveIdle(_series);
            _expiry.RemoveIdle(_routes); // route tables hold no series: nothing to release
        }

        _expiry.Release(removed);
    }

    public void Collect(List<FamilySample> into)
    {
        lock (_gate)
        {
            var byProtocol = new Dictionary<ProtocolDescriptor, (List<SeriesSample> Requests, List<SeriesSample> Duration)>();
            foreach (var (key, series) in _series)
            {
                if (!byProtocol.TryGetValue(key.Protocol, out var lists))
                {
                    lists = ([], []);
                    byProtocol.Add(key.Protocol, lists);
                }

                lists.Requests.Add(series.Counter());
                lists.Duration.Add(series.Histogram());
            }

            foreach (var (protocol, lists) in byProtocol)
            {
                var (requests, duration) = FamiliesOf(protocol);
                into.Add(new FamilySample(requests, lists.Requests));
                into.Add(new FamilySample(duration, lists.Duration));
            }
        }
    }

    private (MetricFamily Requests, MetricFamily Duration) FamiliesOf(ProtocolDescriptor protocol)
    {
        if (!_families.TryGetValue(protocol, out var families))
        {
            var prefix = MetricNames.Prefix + protocol.Name;
            families = (
                new MetricFamily(prefix + "_requests", $"Completed {protocol.Name} requests seen by the agent, by observed workload pod and direction.", MetricKind.Counter),
                new MetricFamily(prefix + "_request_duration_seconds", $"{protocol.Name} request duration, first request byte to first answer byte.", MetricKind.Histogram));
            _families.Add(protocol, families);
        }

        return families;
    }

    /// <summary>The series of an exchange; false when its protocol's code threw (another plugin's bad input, counted).</summary>
    private bool TryKey(in Exchange exchange, long now, out SeriesKey key, out bool collapsed)
    {
        key = default;
        collapsed = false;
        var protocol = exchange.Protocol;
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

            var workload = exchange.Workload;
            var routes = RoutesOf(new RouteTableKey(workload?.Namespace, workload?.WorkloadKind, workload?.WorkloadName, protocol), now);
            var resource = routes.Resolve(exchange.Resource ?? string.Empty, out collapsed);
            key = new SeriesKey(workload, exchange.Direction, protocol, operation, resource, exchange.Status ?? string.Empty);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return false;
        }
    }

    private RouteTable RoutesOf(RouteTableKey key, long now)
    {
        if (!_routes.TryGetValue(key, out var routes))
        {
            routes = new RouteTable(key.Protocol, _maxRoutes);
            _routes.Add(key, routes);
        }

        routes.LastSeen = now;
        return routes;
    }

    private readonly record struct RouteTableKey(string? Namespace, string? WorkloadKind, string? Workload, ProtocolDescriptor Protocol);

    /// <summary>A series by the values of its labels (identities of one pod compare equal even as new instances).</summary>
    private readonly record struct SeriesKey(
        string? Namespace,
        string? WorkloadKind,
        string? Workload,
        string? Pod,
        TrafficDirection Direction,
        ProtocolDescriptor Protocol,
        string Operation,
        string Resource,
        string Status)
    {
        public SeriesKey(WorkloadIdentity? workload, TrafficDirection direction, ProtocolDescriptor protocol, string operation, string resource, string status)
            : this(workload?.Namespace, workload?.WorkloadKind, workload is null ? UnknownWorkload : workload.WorkloadName, workload?.Pod,
                direction, protocol, operation, resource, status)
        {
        }

        public KeyValuePair<string, string>[] Labels()
        {
            var labels = new List<KeyValuePair<string, string>>(8);
            Add("namespace", Namespace);
            Add("workload_kind", WorkloadKind);
            Add("workload", Workload);
            Add("pod", Pod);
            Add("direction", Direction == TrafficDirection.In ? "in" : "out");
            Add(MetricNames.OfLabel(Protocol.OperationTag), Operation);
            Add(MetricNames.OfLabel(Protocol.ResourceTag), Resource);
            Add(MetricNames.OfLabel(Protocol.StatusTag), Status);
            return [.. labels];

            void Add(string name, string? value)
            {
                if (!string.IsNullOrEmpty(value))
                {
                    labels.Add(new(name, value));
                }
            }
        }
    }

    /// <summary>The totals of one label set since it was created: classic buckets, the native histogram, the sum.</summary>
    private sealed class ExchangeSeries(KeyValuePair<string, string>[] labels, SeriesOrigin origin) : IIdleTracked
    {
        private readonly long[] _buckets = new long[LatencyBuckets.Count];
        private readonly NativeHistogram _native = new();
        private long _sumNs;

        public KeyValuePair<string, string>[] Labels { get; } = labels;

        public long Count { get; private set; }

        public long LastSeen { get; private set; }

        public void Observe(long durationNs, long now)
        {
            var clamped = Math.Max(durationNs, 0);
            _buckets[LatencyBuckets.IndexOf(clamped)]++;
            _native.Observe(clamped);
            _sumNs += clamped;
            Count++;
            LastSeen = now;
        }

        public SeriesSample Counter() => new(Labels, Count, Origin: origin);

        public SeriesSample Histogram()
        {
            var cumulative = new long[_buckets.Length];
            long running = 0;
            for (var i = 0; i < _buckets.Length; i++)
            {
                running += _buckets[i];
                cumulative[i] = running;
            }

            return new SeriesSample(Labels, Count, cumulative, _sumNs / 1e9, _native.Snapshot(), origin);
        }
    }
}
