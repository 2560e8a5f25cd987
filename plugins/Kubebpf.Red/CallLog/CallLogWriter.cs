using System.Runtime.CompilerServices;
using Kubebpf.Red.Routing;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Options;

namespace Kubebpf.Red.CallLog;

/// <summary>
/// Writes one <c>http_requests</c> point per exchange, one <see cref="IPointWriter.Write(IReadOnlyList{MetricPoint})"/>
/// per batch. Tag arrays and endpoint texts are cached (bounded) under one lock per batch, so concurrent batches are safe.
/// </summary>
internal sealed class CallLogWriter : IEventSubscriber<HttpExchange>
{
    /// <summary>The measurement name.</summary>
    public const string Measurement = "http_requests";

    private const int MaxCachedTagSets = 4096;

    private readonly IPointWriter _output;
    private readonly bool _recordQueryStrings;
    private readonly Lock _cacheLock = new();
    private readonly Dictionary<TagsKey, Tag[]> _tags = [];
    private readonly EndpointTexts _endpoints = new();
    private readonly Tag[] _scratchTags = new Tag[WorkloadTags.MaxTags];

    public CallLogWriter(IPointWriter output, IOptions<RedOptions> options)
    {
        _output = output;
        _recordQueryStrings = options.Value.CallLog.RecordQueryStrings;
    }

    public void OnEvents(ReadOnlySpan<HttpExchange> batch)
    {
        if (batch.IsEmpty)
        {
            return;
        }

        var points = new MetricPoint[batch.Length];
        lock (_cacheLock)
        {
            for (var i = 0; i < batch.Length; i++)
            {
                points[i] = ToPoint(batch[i]);
            }
        }

        _output.Write(points);
    }

    /// <summary>The status_class tag value.</summary>
    internal static string StatusClass(int status) => status switch
    {
        >= 100 and <= 199 => "1xx",
        >= 200 and <= 299 => "2xx",
        >= 300 and <= 399 => "3xx",
        >= 400 and <= 499 => "4xx",
        >= 500 and <= 599 => "5xx",
        _ => "other",
    };

    private MetricPoint ToPoint(in HttpExchange exchange)
    {
        var query = _recordQueryStrings && !string.IsNullOrEmpty(exchange.Query) ? exchange.Query : null;
        var host = string.IsNullOrEmpty(exchange.Host) ? null : exchange.Host;
        var fields = new Field[7 + (exchange.RequestBodyBytes >= 0 ? 1 : 0) + (exchange.ResponseBodyBytes >= 0 ? 1 : 0)
            + (host is null ? 0 : 1) + (query is null ? 0 : 1)];
        var count = 0;
        fields[count++] = new("path", FieldValue.String(exchange.Path));
        fields[count++] = new("status", FieldValue.Integer(exchange.Status));
        fields[count++] = new("duration_ns", FieldValue.Integer(exchange.DurationNs));
        if (exchange.RequestBodyBytes >= 0)
        {
            fields[count++] = new("request_bytes", FieldValue.Integer(exchange.RequestBodyBytes));
        }

        if (exchange.ResponseBodyBytes >= 0)
        {
            fields[count++] = new("response_bytes", FieldValue.Integer(exchange.ResponseBodyBytes));
        }

        fields[count++] = new("client", FieldValue.String(_endpoints.Text(exchange.Client)));
        fields[count++] = new("server", FieldValue.String(_endpoints.Text(exchange.Server)));
        fields[count++] = new("peer_ip", FieldValue.String(_endpoints.Text(exchange.Remote.WithPort(0))));
        if (host is not null)
        {
            fields[count++] = new("host", FieldValue.String(host));
        }

        if (query is not null)
        {
            fields[count++] = new("query", FieldValue.String(query));
        }

        fields[count] = new("version", FieldValue.String(exchange.Version));
        return new MetricPoint(Measurement, TagsOf(exchange), fields, exchange.StartUnixNs);
    }

    /// <summary>
    /// The tags, shared by every point with the same workload, peer, direction, method and status class: points never
    /// change their arrays, and one array per combination instead of one per exchange keeps the buffered points small.
    /// </summary>
    private Tag[] TagsOf(in HttpExchange exchange)
    {
        var key = new TagsKey(exchange.Workload, exchange.Peer, exchange.Direction, HttpMethods.Canonical(exchange.Method), StatusClass(exchange.Status));
        if (_tags.TryGetValue(key, out var cached))
        {
            return cached;
        }

        Span<Tag> tags = _scratchTags;
        var count = WorkloadTags.AppendWorkload(tags, 0, key.Workload);
        count = WorkloadTags.Append(tags, count, "direction", WorkloadTags.Direction(key.Direction));
        count = WorkloadTags.Append(tags, count, "method", key.Method);
        count = WorkloadTags.Append(tags, count, "status_class", key.StatusClass);
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

    /// <summary>Identities are compared by reference: metadata sources hand out one instance per pod, and a new instance only costs a cache entry.</summary>
    private readonly record struct TagsKey(WorkloadIdentity? Workload, WorkloadIdentity? Peer, TrafficDirection Direction, string Method, string StatusClass)
    {
        public bool Equals(TagsKey other) =>
            ReferenceEquals(Workload, other.Workload) && ReferenceEquals(Peer, other.Peer) && Direction == other.Direction
            && ReferenceEquals(Method, other.Method) && ReferenceEquals(StatusClass, other.StatusClass);

        public override int GetHashCode() =>
            HashCode.Combine(RuntimeHelpers.GetHashCode(Workload), RuntimeHelpers.GetHashCode(Peer), Direction, RuntimeHelpers.GetHashCode(Method), RuntimeHelpers.GetHashCode(StatusClass));
    }
}
