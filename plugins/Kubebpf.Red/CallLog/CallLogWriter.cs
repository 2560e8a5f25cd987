using Kubebpf.Red.Routing;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Options;

namespace Kubebpf.Red.CallLog;

/// <summary>
/// Writes one <c>http_requests</c> point per exchange, one <see cref="IPointWriter.Write(IReadOnlyList{MetricPoint})"/>
/// per batch. Stateless, so concurrent batches need no synchronisation.
/// </summary>
internal sealed class CallLogWriter : IEventSubscriber<HttpExchange>
{
    /// <summary>The measurement name.</summary>
    public const string Measurement = "http_requests";

    private readonly IPointWriter _output;
    private readonly bool _recordQueryStrings;

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

        var points = new List<MetricPoint>(batch.Length);
        Span<Tag> tags = new Tag[WorkloadTags.MaxTags];
        foreach (ref readonly var exchange in batch)
        {
            points.Add(ToPoint(exchange, tags));
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

    private MetricPoint ToPoint(in HttpExchange exchange, Span<Tag> tags)
    {
        var count = WorkloadTags.AppendWorkload(tags, 0, exchange.Workload);
        count = WorkloadTags.Append(tags, count, "direction", WorkloadTags.Direction(exchange.Direction));
        count = WorkloadTags.Append(tags, count, "method", HttpMethods.Canonical(exchange.Method));
        count = WorkloadTags.Append(tags, count, "status_class", StatusClass(exchange.Status));
        count = WorkloadTags.Append(tags, count, "peer_namespace", exchange.Peer?.Namespace);
        count = WorkloadTags.Append(tags, count, "peer_workload", exchange.Peer?.WorkloadName);
        count = WorkloadTags.Append(tags, count, "peer_service", exchange.Peer?.Service);

        var fields = new List<Field>(11)
        {
            new("path", FieldValue.String(exchange.Path)),
            new("status", FieldValue.Integer(exchange.Status)),
            new("duration_ns", FieldValue.Integer(exchange.DurationNs)),
        };
        if (exchange.RequestBodyBytes >= 0)
        {
            fields.Add(new("request_bytes", FieldValue.Integer(exchange.RequestBodyBytes)));
        }

        if (exchange.ResponseBodyBytes >= 0)
        {
            fields.Add(new("response_bytes", FieldValue.Integer(exchange.ResponseBodyBytes)));
        }

        fields.Add(new("client", FieldValue.String(exchange.Client.ToString())));
        fields.Add(new("server", FieldValue.String(exchange.Server.ToString())));
        fields.Add(new("peer_ip", FieldValue.String(exchange.Remote.AddressText)));
        if (!string.IsNullOrEmpty(exchange.Host))
        {
            fields.Add(new("host", FieldValue.String(exchange.Host)));
        }

        if (_recordQueryStrings && !string.IsNullOrEmpty(exchange.Query))
        {
            fields.Add(new("query", FieldValue.String(exchange.Query)));
        }

        fields.Add(new("version", FieldValue.String(exchange.Version)));
        return new MetricPoint(Measurement, tags[..count].ToArray(), [.. fields], exchange.StartUnixNs);
    }
}
