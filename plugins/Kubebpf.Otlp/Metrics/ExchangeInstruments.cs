using System.Diagnostics.Metrics;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Otlp.Metrics;

/// <summary>
/// The instruments of one protocol on one side (server: the observed workload answered; client: it asked), and the
/// series seen on them. The request counter is counted here, per series, and observed by the SDK at each export (an
/// observable counter costs nothing per exchange); the duration histogram is the SDK's, recorded with the series'
/// attribute array, built once. Series are bounded by the cardinality limit: beyond it, requests are counted in one
/// series marked <c>otel.metric.overflow</c>, as the SDK marks its own. Attribute keys are the conventions'
/// <c>http.*</c> for HTTP and <c>&lt;protocol&gt;.&lt;descriptor tag&gt;</c> (<c>dns.qtype</c>) for the others.
/// Mutated under the caller's lock, which the export's observation takes too.
/// </summary>
internal sealed class ExchangeInstruments
{
    /// <summary>Histogram bucket upper bounds, in seconds: from 100 µs (what eBPF sees of a local static answer) to 10 s.</summary>
    public static readonly double[] DurationBoundaries =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    /// <summary>The attribute the SDK gives its overflow series; the request counter's own overflow series has it too.</summary>
    public const string OverflowAttribute = "otel.metric.overflow";

    private readonly Lock _gate;
    private readonly int _maxSeries;
    private readonly Dictionary<SeriesKey, RequestSeries> _series = [];
    private readonly List<RequestSeries> _ordered = [];
    private readonly RequestSeries _overflow = new([new(OverflowAttribute, true)]);

    public ExchangeInstruments(Meter meter, ProtocolDescriptor protocol, TrafficDirection direction, int cardinalityLimit, Lock gate)
    {
        Protocol = protocol;
        Direction = direction;
        _gate = gate;
        _maxSeries = cardinalityLimit - 1; // the SDK's limit counts its overflow series
        var side = direction == TrafficDirection.In ? "served" : "made";
        meter.CreateObservableCounter(
            SemanticNames.RequestsInstrument(protocol, direction), Observe, "{request}", $"{protocol.Name} requests the observed workload {side}.");
        Duration = meter.CreateHistogram<double>(
            SemanticNames.DurationInstrument(protocol, direction), "s", $"Duration of {protocol.Name} requests the observed workload {side}, first request byte to first answer byte.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBoundaries });
        var http = SemanticNames.IsHttp(protocol);
        OperationKey = http ? SemanticNames.HttpMethod : $"{protocol.Name}.{protocol.OperationTag}";
        ResourceKey = http ? SemanticNames.HttpRoute : $"{protocol.Name}.{protocol.ResourceTag}";
        StatusKey = http ? null : $"{protocol.Name}.{protocol.StatusTag}";
        CodeKey = http ? SemanticNames.HttpStatusCode : null;
        WithTransport = !http; // HTTP is TCP here; the conventions' HTTP metrics do not carry network.transport
    }

    public ProtocolDescriptor Protocol { get; }

    public TrafficDirection Direction { get; }

    public Histogram<double> Duration { get; }

    public string OperationKey { get; }

    public string ResourceKey { get; }

    /// <summary>The key of the status class (<c>dns.rcode</c>), or null where the numeric code says it (HTTP).</summary>
    public string? StatusKey { get; }

    /// <summary>The key of the numeric code (<c>http.response.status_code</c>), or null where the status says it.</summary>
    public string? CodeKey { get; }

    /// <summary>Whether <c>network.transport</c> is an attribute.</summary>
    public bool WithTransport { get; }

    /// <summary>Requests counted in the overflow series.</summary>
    public long Overflowed => Volatile.Read(ref _overflow.Count);

    /// <summary>
    /// The series of <paramref name="key"/>, created with the attributes <paramref name="tags"/> builds; the overflow
    /// series once the cardinality limit is reached (<paramref name="overflowed"/>). Call under the lock.
    /// </summary>
    public RequestSeries Series(in SeriesKey key, Func<SeriesKey, ExchangeInstruments, KeyValuePair<string, object?>[]> tags, out bool overflowed)
    {
        overflowed = false;
        if (_series.TryGetValue(key, out var series))
        {
            return series;
        }

        if (_series.Count >= _maxSeries)
        {
            overflowed = true;
            return _overflow;
        }

        series = new RequestSeries(tags(key, this));
        _series.Add(key, series);
        _ordered.Add(series);
        return series;
    }

    private List<Measurement<long>> Observe()
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>(_ordered.Count + 1);
            foreach (var series in _ordered)
            {
                measurements.Add(new Measurement<long>(series.Count, series.Tags));
            }

            if (_overflow.Count > 0)
            {
                measurements.Add(new Measurement<long>(_overflow.Count, _overflow.Tags));
            }

            return measurements;
        }
    }
}

/// <summary>What tells series apart: every attribute value of the observed workload and of the request.</summary>
internal readonly record struct SeriesKey(
    string? Namespace, string? Pod, string? WorkloadKind, string? WorkloadName, string? Node,
    Transport Transport, string ServerAddress, string Operation, string Route, int Code, string? Status, string? ErrorType);

/// <summary>One series of a request counter: its attributes (shared with the histogram's records) and its total.</summary>
internal sealed class RequestSeries(KeyValuePair<string, object?>[] tags)
{
    public readonly KeyValuePair<string, object?>[] Tags = tags;

    /// <summary>Requests since start; written under the instruments' lock.</summary>
    public long Count;
}
