using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Otlp.Metrics;

/// <summary>
/// Records every exchange, of any protocol, into a request counter and a duration histogram of its protocol and side,
/// with the workload's <c>k8s.*</c> attributes and the request's operation, route and status. Routes are capped per
/// workload first; each series' attribute array is built once and reused, so an exchange costs a dictionary lookup,
/// an increment and one histogram record. One lock per batch guards the caches and the request counts.
/// </summary>
internal sealed class ExchangeMetrics : IEventSubscriber<Exchange>
{
    private const double NsPerSecond = 1e9;

    private readonly OtlpTelemetry _telemetry;
    private readonly Lock _gate = new();
    private readonly RouteLimiter _routes;
    private readonly AddressTexts _addresses = new();
    private readonly Counter _routesCollapsed;
    private readonly Counter _descriptorFailures;
    private readonly int _cardinalityLimit;
    private ExchangeInstruments[] _instruments = [];
    private long _requestsInOverflow;

    public ExchangeMetrics(OtlpTelemetry telemetry, OtlpOptions options, IAgentMetrics metrics)
    {
        _telemetry = telemetry;
        _routes = new RouteLimiter(options.MaxRoutesPerWorkload);
        _cardinalityLimit = options.CardinalityLimit;
        metrics.Gauge(
            "requests_in_overflow", "Requests counted in a request counter's overflow series because it reached CardinalityLimit (since start).",
            () => Interlocked.Read(ref _requestsInOverflow));
        _routesCollapsed = metrics.Counter(
            "routes_collapsed", "An exchange recorded under route {other} because its workload reached MaxRoutesPerWorkload in its protocol.");
        _descriptorFailures = metrics.Counter(
            "metric_descriptor_failures", "An exchange left out of the metrics because it had no protocol, or its protocol's CanonicalOperation or NormalizeResource threw.");
    }

    public void OnEvents(ReadOnlySpan<Exchange> batch)
    {
        long collapsed = 0;
        long failures = 0;
        lock (_gate)
        {
            foreach (ref readonly var exchange in batch)
            {
                switch (Record(exchange))
                {
                    case RecordResult.Collapsed:
                        collapsed++;
                        break;
                    case RecordResult.Failed:
                        failures++;
                        break;
                }
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

    private RecordResult Record(in Exchange exchange)
    {
        var protocol = exchange.Protocol;
        if (protocol is null)
        {
            return RecordResult.Failed;
        }

        string operation;
        string route;
        bool collapsed;
        try
        {
            operation = protocol.CanonicalOperation(exchange.Operation ?? string.Empty);
            route = _routes.Resolve(exchange.Workload, protocol, exchange.Resource, out collapsed);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return RecordResult.Failed; // another plugin's bad input: counted, and it must not stop this subscriber
        }

        var instruments = InstrumentsOf(protocol, exchange.Direction);
        var workload = exchange.Workload;
        var key = new SeriesKey(
            workload?.Namespace, workload?.Pod, workload?.WorkloadKind, workload?.WorkloadName, workload?.Node, exchange.Transport,
            ServerAddress(exchange), operation, route, instruments.CodeKey is null ? -1 : exchange.Code,
            instruments.StatusKey is null ? null : exchange.Status, ErrorType(exchange));
        var series = instruments.Series(key, AttributesOf, out var overflowed);
        series.Count++;
        instruments.Duration.Record(exchange.DurationNs / NsPerSecond, series.Tags);
        if (overflowed)
        {
            Interlocked.Increment(ref _requestsInOverflow);
        }

        return collapsed ? RecordResult.Collapsed : RecordResult.Recorded;
    }

    /// <summary>The attributes of a new series, in a fixed order; empty values left out.</summary>
    private static KeyValuePair<string, object?>[] AttributesOf(SeriesKey key, ExchangeInstruments instruments)
    {
        var tags = new List<KeyValuePair<string, object?>>(12);
        AddWorkload(tags, key.Namespace, key.Pod, key.WorkloadKind, key.WorkloadName, key.Node);
        if (instruments.WithTransport)
        {
            Add(SemanticNames.NetworkTransport, SemanticNames.TransportName(key.Transport));
        }

        Add(SemanticNames.ServerAddress, key.ServerAddress);
        Add(instruments.OperationKey, key.Operation);
        Add(instruments.ResourceKey, key.Route);
        if (instruments.CodeKey is { } codeKey && key.Code != -1)
        {
            tags.Add(new(codeKey, (long)key.Code));
        }

        if (instruments.StatusKey is { } statusKey)
        {
            Add(statusKey, key.Status);
        }

        Add(SemanticNames.ErrorType, key.ErrorType);
        return [.. tags];

        void Add(string name, string? value) => ExchangeMetrics.Add(tags, name, value);
    }

    /// <summary>The conventions' <c>error.type</c>: the status class of a failed request (<c>5xx</c>, <c>SERVFAIL</c>), <c>timeout</c> for no answer.</summary>
    internal static string? ErrorType(in Exchange exchange) => exchange.Outcome switch
    {
        ExchangeOutcome.Error => string.IsNullOrEmpty(exchange.Status) ? "error" : exchange.Status,
        ExchangeOutcome.Timeout => "timeout",
        _ => null,
    };

    /// <summary>
    /// Appends the observed workload's namespace, pod, workload name (under its kind's <c>k8s.*.name</c> key, or
    /// <c>kubebpf.workload.*</c> for a kind the conventions do not name) and node; empty values left out.
    /// </summary>
    internal static void AddWorkload(List<KeyValuePair<string, object?>> tags, string? @namespace, string? pod, string? kind, string? name, string? node)
    {
        Add(tags, SemanticNames.Namespace, @namespace);
        Add(tags, SemanticNames.Pod, pod);
        if (kind is not null && SemanticNames.WorkloadNameKey(kind) is { } workloadKey)
        {
            Add(tags, workloadKey, name);
        }
        else if (kind is not (null or "Pod"))
        {
            Add(tags, SemanticNames.WorkloadKind, kind);
            Add(tags, SemanticNames.WorkloadName, name);
        }

        Add(tags, SemanticNames.Node, node);
    }

    /// <summary>Appends the attribute unless its value is empty.</summary>
    internal static void Add(List<KeyValuePair<string, object?>> tags, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            tags.Add(new(key, value));
        }
    }

    /// <summary>The server's name where the metadata knows its service (a call to another workload), its address otherwise.</summary>
    private string ServerAddress(in Exchange exchange) =>
        exchange.Direction == TrafficDirection.Out && exchange.Peer is { Service.Length: > 0 } peer
            ? peer.Service
            : _addresses.Address(exchange.Server);

    private ExchangeInstruments InstrumentsOf(ProtocolDescriptor protocol, TrafficDirection direction)
    {
        foreach (var instruments in _instruments)
        {
            if (ReferenceEquals(instruments.Protocol, protocol) && instruments.Direction == direction)
            {
                return instruments;
            }
        }

        var created = new ExchangeInstruments(_telemetry.Meter, protocol, direction, _cardinalityLimit, _gate);
        _instruments = [.. _instruments, created];
        return created;
    }

    private enum RecordResult
    {
        Recorded,
        Collapsed,
        Failed,
    }
}
