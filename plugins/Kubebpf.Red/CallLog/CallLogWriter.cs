using System.Runtime.CompilerServices;
using Kubebpf.Sdk.CallLog;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.Options;

namespace Kubebpf.Red.CallLog;

/// <summary>
/// Writes the <c>&lt;protocol&gt;_requests</c> points of every protocol, named by its descriptor: errors and slow calls
/// within their allowance at once, one <see cref="IPointWriter.Write(IReadOnlyList{MetricPoint})"/> per batch, and at
/// each flush the weighted samples (<see cref="CallLogSampler"/>; without sampling, every exchange at once with weight 1).
/// Tag arrays and endpoint texts are cached (bounded); one lock guards them and the sampler, taken once per batch, so
/// concurrent batches are safe. A peer no workload names gets the name the agent learned for its address (a DNS
/// answer), when there is one, as the field <c>peer_name</c>.
/// </summary>
internal sealed class CallLogWriter : IEventSubscriber<Exchange>, IFlushable
{
    private const int MaxCachedTagSets = 4096;

    private readonly IPointWriter _output;
    private readonly IPeerNameResolver? _peerNames;
    private readonly CallLogSampler? _sampler;
    private readonly Counter _descriptorFailures;
    private readonly Lock _cacheLock = new();
    private readonly Dictionary<TagsKey, Tag[]> _tags = [];
    private readonly EndpointTexts _endpoints = new();
    private readonly Tag[] _scratchTags = new Tag[WorkloadTags.MaxTags];
    private readonly List<WeightedExchange> _sample = [];
    private long _windowStartUnixNs;

    public CallLogWriter(IPointWriter output, IAgentMetrics metrics, IOptions<RedOptions> options, TimeProvider time, IPeerNameResolver? peerNames = null)
        : this(output, metrics, options.Value.CallLog.Sampling, time, peerNames, random: null)
    {
    }

    /// <summary>For tests and benchmarks: the policy as it is, and <paramref name="random"/> (null: a new one) drives the sample.</summary>
    internal CallLogWriter(
        IPointWriter output, IAgentMetrics metrics, CallLogSamplingOptions sampling, TimeProvider time, IPeerNameResolver? peerNames, Random? random)
    {
        _output = output;
        _peerNames = peerNames;
        _sampler = sampling.Enabled ? new CallLogSampler(sampling, metrics, random) : null;
        _descriptorFailures = metrics.Counter(
            "call_log_descriptor_failures",
            "An exchange left out of the call log because it had no protocol, or its protocol's CanonicalOperation or details threw.");
        _windowStartUnixNs = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * TimeSpan.NanosecondsPerTick;
    }

    public void OnEvents(ReadOnlySpan<Exchange> batch)
    {
        MetricPoint[]? points = null;
        var count = 0;
        var failures = 0;
        lock (_cacheLock)
        {
            foreach (ref readonly var exchange in batch)
            {
                if (exchange.Protocol is null)
                {
                    failures++;
                }
                else if (_sampler is null || _sampler.KeepsAtOnce(exchange))
                {
                    if (TryPoint(exchange, weight: 1) is { } point)
                    {
                        points ??= new MetricPoint[batch.Length];
                        points[count++] = point;
                    }
                    else
                    {
                        failures++;
                    }
                }
            }
        }

        Write(points, count, failures);
    }

    /// <summary>
    /// Writes the window's sample. Its points go where every call-log point goes, the sinks' per-event records queue,
    /// not to <paramref name="output"/>, the aggregates queue, which is written first and outlives outages.
    /// </summary>
    public void Flush(long windowEndUnixNs, IPointWriter output)
    {
        if (_sampler is null)
        {
            return;
        }

        MetricPoint[]? points = null;
        var count = 0;
        var failures = 0;
        lock (_cacheLock)
        {
            _sampler.Drain(Math.Max(windowEndUnixNs - _windowStartUnixNs, 1) / 1e9, _sample);
            _windowStartUnixNs = windowEndUnixNs;
            foreach (var (exchange, weight) in _sample)
            {
                if (TryPoint(exchange, weight) is { } point)
                {
                    points ??= new MetricPoint[_sample.Count];
                    points[count++] = point;
                }
                else
                {
                    failures++;
                }
            }

            _sample.Clear();
        }

        Write(points, count, failures);
    }

    private void Write(MetricPoint[]? points, int count, int failures)
    {
        if (failures > 0)
        {
            _descriptorFailures.Add(failures);
        }

        if (points is not null)
        {
            _output.Write(count == points.Length ? points : points[..count]);
        }
    }

    /// <summary>
    /// The point of <paramref name="exchange"/> (which has a protocol), or null when the protocol's code threw or its
    /// details wrote fewer fields than they announced: another plugin's bad input, counted, that must not stop this subscriber.
    /// </summary>
    private MetricPoint? TryPoint(in Exchange exchange, long weight)
    {
        try
        {
            return ToPoint(exchange, weight);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null;
        }
    }

    private MetricPoint? ToPoint(in Exchange exchange, long weight)
    {
        var protocol = exchange.Protocol;
        var details = exchange.Details;
        var hasResource = !string.IsNullOrEmpty(exchange.Resource);
        var detailCount = details?.FieldCount ?? 0;
        var peerName = exchange.Peer is null ? _peerNames?.ResolveName(exchange.Remote) : null;
        var fields = new Field[5 + detailCount + (hasResource ? 1 : 0) + (exchange.Code != -1 ? 1 : 0) + (string.IsNullOrEmpty(peerName) ? 0 : 1)
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
        fields[count++] = new("weight", FieldValue.Integer(weight));
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
