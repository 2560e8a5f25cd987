using System.Diagnostics;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Otlp.Metrics;

/// <summary>
/// Records every exchange, of any protocol, into a request counter and a duration histogram of its protocol and side,
/// with the workload's <c>k8s.*</c> attributes and the request's operation, route and status. The SDK aggregates
/// (cumulative or delta, bounded by its cardinality limit); routes are capped per workload before they reach it. One
/// lock per batch guards the route and address caches; the instruments themselves are thread-safe.
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
    private ExchangeInstruments[] _instruments = [];

    public ExchangeMetrics(OtlpTelemetry telemetry, OtlpOptions options, IAgentMetrics metrics)
    {
        _telemetry = telemetry;
        _routes = new RouteLimiter(options.MaxRoutesPerWorkload);
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
        var tags = WorkloadTags(exchange.Workload);
        tags.Add(SemanticNames.NetworkTransport, SemanticNames.TransportName(exchange.Transport));
        tags.Add(SemanticNames.ServerAddress, ServerAddress(exchange));
        tags.Add(instruments.OperationKey, operation);
        tags.Add(instruments.ResourceKey, route);
        if (instruments.CodeKey is { } codeKey && exchange.Code != -1)
        {
            tags.Add(codeKey, exchange.Code);
        }

        if (instruments.StatusKey is { } statusKey && !string.IsNullOrEmpty(exchange.Status))
        {
            tags.Add(statusKey, exchange.Status);
        }

        if (ErrorType(exchange) is { } errorType)
        {
            tags.Add(SemanticNames.ErrorType, errorType);
        }

        instruments.Requests.Add(1, tags);
        instruments.Duration.Record(exchange.DurationNs / NsPerSecond, tags);
        return collapsed ? RecordResult.Collapsed : RecordResult.Recorded;
    }

    /// <summary>The conventions' <c>error.type</c>: the status class of a failed request (<c>5xx</c>, <c>SERVFAIL</c>), <c>timeout</c> for no answer.</summary>
    internal static string? ErrorType(in Exchange exchange) => exchange.Outcome switch
    {
        ExchangeOutcome.Error => string.IsNullOrEmpty(exchange.Status) ? "error" : exchange.Status,
        ExchangeOutcome.Timeout => "timeout",
        _ => null,
    };

    /// <summary>The observed workload's namespace, pod, workload (under its kind's key) and node; none when unknown.</summary>
    internal static TagList WorkloadTags(WorkloadIdentity? workload)
    {
        var tags = default(TagList);
        if (workload is null)
        {
            return tags;
        }

        Add(ref tags, SemanticNames.Namespace, workload.Namespace);
        Add(ref tags, SemanticNames.Pod, workload.Pod);
        if (SemanticNames.WorkloadNameKey(workload.WorkloadKind) is { } key)
        {
            Add(ref tags, key, workload.WorkloadName);
        }
        else if (workload.WorkloadKind != "Pod")
        {
            Add(ref tags, SemanticNames.WorkloadKind, workload.WorkloadKind);
            Add(ref tags, SemanticNames.WorkloadName, workload.WorkloadName);
        }

        Add(ref tags, SemanticNames.Node, workload.Node);
        return tags;

        static void Add(ref TagList tags, string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                tags.Add(key, value);
            }
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

        var created = new ExchangeInstruments(_telemetry.Meter, protocol, direction);
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
