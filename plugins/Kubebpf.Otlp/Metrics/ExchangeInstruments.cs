using System.Diagnostics.Metrics;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Otlp.Metrics;

/// <summary>
/// The instruments of one protocol on one side (server: the observed workload answered; client: it asked) and the
/// attribute keys its operation, resource and status go under: the conventions' <c>http.*</c> keys for HTTP,
/// <c>&lt;protocol&gt;.&lt;descriptor tag&gt;</c> (<c>dns.qtype</c>, <c>mysql.fingerprint</c>) for the others.
/// </summary>
internal sealed class ExchangeInstruments
{
    /// <summary>Histogram bucket upper bounds, in seconds: from 100 µs (what eBPF sees of a local static answer) to 10 s.</summary>
    public static readonly double[] DurationBoundaries =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    public ExchangeInstruments(Meter meter, ProtocolDescriptor protocol, TrafficDirection direction)
    {
        Protocol = protocol;
        Direction = direction;
        var side = direction == TrafficDirection.In ? "served" : "made";
        Requests = meter.CreateCounter<long>(
            SemanticNames.RequestsInstrument(protocol, direction), "{request}", $"{protocol.Name} requests the observed workload {side}.");
        Duration = meter.CreateHistogram<double>(
            SemanticNames.DurationInstrument(protocol, direction), "s", $"Duration of {protocol.Name} requests the observed workload {side}, first request byte to first answer byte.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBoundaries });
        var http = SemanticNames.IsHttp(protocol);
        OperationKey = http ? SemanticNames.HttpMethod : $"{protocol.Name}.{protocol.OperationTag}";
        ResourceKey = http ? SemanticNames.HttpRoute : $"{protocol.Name}.{protocol.ResourceTag}";
        StatusKey = http ? null : $"{protocol.Name}.{protocol.StatusTag}";
        CodeKey = http ? SemanticNames.HttpStatusCode : null;
    }

    public ProtocolDescriptor Protocol { get; }

    public TrafficDirection Direction { get; }

    public Counter<long> Requests { get; }

    public Histogram<double> Duration { get; }

    public string OperationKey { get; }

    public string ResourceKey { get; }

    /// <summary>The key of the status class (<c>dns.rcode</c>), or null where the numeric code says it (HTTP).</summary>
    public string? StatusKey { get; }

    /// <summary>The key of the numeric code (<c>http.response.status_code</c>), or null where the status says it.</summary>
    public string? CodeKey { get; }
}
