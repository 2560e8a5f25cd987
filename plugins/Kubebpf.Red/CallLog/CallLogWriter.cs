using System.Runtime.CompilerServices;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Red.CallLog;

/// <summary>
/// Writes one <c>&lt;protocol&gt;_requests</c> point per exchange of any protocol, named by its descriptor, one
/// <see cref="IPointWriter.Write(IReadOnlyList{MetricPoint})"/> per batch. Tag arrays and endpoint texts are cached
/// (bounded) under one lock per batch, so concurrent batches are safe. A peer no workload names gets the name the agent
/// learned for its address (a DNS answer), when there is one, as the field <c>peer_name</c>.
/// </summary>
internal sealed class CallLogWriter : IEventSubscriber<Exchange>
{
    private const int MaxCachedTagSets = 4096;

    private readonly IPointWriter _output;
    private readonly IPeerNameResolver? _peerNames;
    private readonly Counter _descriptorFailures;
    private readonly Lock _cacheLock = new();
    private readonly Dictionary<TagsKey, Tag[]> _tags = [];
    private readonly EndpointTexts _endpoints = new();
    private readonly Tag[] _scratchTags = new Tag[WorkloadTags.MaxTags];

    public CallLogWriter(IPointWriter output, IAgentMetrics metrics, IPeerNameResolver? peerNames = null)
    {
        _output = output;
        _peerNames = peerNames;
        _descriptorFailures = metrics.Counter(
            "call_log_descriptor_failures",
            "An exchange left out of the call log because it had no protocol, or its protocol's CanonicalOperation or details threw.");
    }

    public void OnEvents(ReadOnlySpan<Exchange> batch)
    {
        if (batch.IsEmpty)
        {
            return;
        }

        var points = new MetricPoint[batch.Length];
        var count = 0;
        lock (_cacheLock)
        {
            foreach (ref readonly var exchange in batch)
            {
                if (TryPoint(exchange) is { } point)
                {
                    points[count++] = point;
                }
            }
        }

        if (count == points.Length)
        {
            _output.Write(points);
            return;
        }

        _descriptorFailures.Add(points.Length - count);
        if (count > 0)
        {
            _output.Write(points[..count]);
        }
    }

    /// <summary>
    /// The point of <paramref name="exchange"/>, or null when its protocol is missing, its code threw or its details
    /// wrote fewer fields than they announced: another plugin's bad input, counted, that must not stop this subscriber.
    /// </summary>
    private MetricPoint? TryPoint(in Exchange exchange)
    {
        if (exchange.Protocol is null)
        {
            return null;
        }

        try
        {
            return ToPoint(exchange);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null;
        }
    }

    private MetricPoint? ToPoint(in Exchange exchange)
    {
        var protocol = exchange.Protocol;
        var details = exchange.Details;
        var hasResource = !string.IsNullOrEmpty(exchange.Resource);
        var detailCount = details?.FieldCount ?? 0;
        var peerName = exchange.Peer is null ? _peerNames?.ResolveName(exchange.Remote) : null;
        var fields = new Field[4 + detailCount + (hasResource ? 1 : 0) + (exchange.Code != -1 ? 1 : 0) + (string.IsNullOrEmpty(peerName) ? 0 : 1)
            + (exchange.RequestBytes >= 0 ? 1 : 0) + (exchange.ResponseBytes >= 0 ? 1 : 0)];
        var count = 0;
        if (hasResource)
        {
            fields[count++] = new(protocol.ResourceField, FieldValue.String(exchange.Resource));
        }

        if (exchange.Code != -1)
        {
            fields[count++] = new(protocol.CodeField, FieldValue.Integer(exchange.Code));
        }

        fields[count++] = new("duration_ns", FieldValue.Integer(exchange.DurationNs));
        if (exchange.RequestBytes >= 0)
        {
            fields[count++] = new("request_bytes", FieldValue.Integer(exchange.RequestBytes));
        }

        if (exchange.ResponseBytes >= 0)
        {
            fields[count++] = new("response_bytes", FieldValue.Integer(exchange.ResponseBytes));
        }

        fields[count++] = new("client", FieldValue.String(_endpoints.Text(exchange.Client)));
        fields[count++] = new("server", FieldValue.String(_endpoints.Text(exchange.Server)));
        fields[count++] = new("peer_ip", FieldValue.String(_endpoints.Text(exchange.Remote.WithPort(0))));
        if (!string.IsNullOrEmpty(peerName))
        {
            fields[count++] = new("peer_name", FieldValue.String(peerName));
        }
        if (details is not null)
        {
            var written = fields.AsSpan(count);
            details.WriteFields(written);
            foreach (var field in written)
            {
                if (string.IsNullOrEmpty(field.Key))
                {
                    return null;
                }
            }
        }

        return new MetricPoint(protocol.CallLogMeasurement, TagsOf(exchange), fields, exchange.StartUnixNs);
    }

    /// <summary>
    /// The tags, shared by every point with the same workload, peer, direction, protocol, operation and status: points
    /// never change their arrays, and one array per combination instead of one per exchange keeps the buffered points small.
    /// </summary>
    private Tag[] TagsOf(in Exchange exchange)
    {
        var protocol = exchange.Protocol;
        var key = new TagsKey(
            exchange.Workload, exchange.Peer, exchange.Direction, protocol, protocol.CanonicalOperation(exchange.Operation ?? string.Empty), exchange.Status);
        if (_tags.TryGetValue(key, out var cached))
        {
            return cached;
        }

        Span<Tag> tags = _scratchTags;
        var count = WorkloadTags.AppendWorkload(tags, 0, key.Workload);
        count = WorkloadTags.Append(tags, count, "direction", WorkloadTags.Direction(key.Direction));
        count = WorkloadTags.Append(tags, count, protocol.OperationTag, key.Operation);
        count = WorkloadTags.Append(tags, count, protocol.StatusTag, key.Status);
        count = WorkloadTags.Append(tags, count, "peer_namespace", key.Peer?.Namespace);
        count = WorkloadTags.Append(tags, count, "peer_pod", key.Peer?.Pod);
        count = WorkloadTags.Append(tags, count, "peer_workload", key.Peer?.WorkloadName);
        count = WorkloadTags.Append(tags, count, "peer_service", key.Peer?.Service);
        var array = tags[..count].ToArray();
        if (_tags.Count >= MaxCachedTagSets)
        {
            _tags.Clear(); // metadata reloads bring new identity instances: start over rather than grow
        }

        _tags.Add(key, array);
        return array;
    }

    /// <summary>
    /// Identities and protocols are compared by reference: metadata sources hand out one instance per pod, a protocol
    /// has one descriptor, and a new instance only costs a cache entry. Operation and status are short strings that
    /// parsers usually share; compared by value, a parser that does not still finds its tags.
    /// </summary>
    private readonly record struct TagsKey(
        WorkloadIdentity? Workload, WorkloadIdentity? Peer, TrafficDirection Direction, ProtocolDescriptor Protocol, string? Operation, string? Status)
    {
        public bool Equals(TagsKey other) =>
            ReferenceEquals(Workload, other.Workload) && ReferenceEquals(Peer, other.Peer) && Direction == other.Direction
            && ReferenceEquals(Protocol, other.Protocol)
            && string.Equals(Operation, other.Operation, StringComparison.Ordinal) && string.Equals(Status, other.Status, StringComparison.Ordinal);

        public override int GetHashCode() => HashCode.Combine(
            RuntimeHelpers.GetHashCode(Workload),
            RuntimeHelpers.GetHashCode(Peer),
            Direction,
            RuntimeHelpers.GetHashCode(Protocol),
            Operation is null ? 0 : StringComparer.Ordinal.GetHashCode(Operation),
            Status is null ? 0 : StringComparer.Ordinal.GetHashCode(Status));
    }
}
