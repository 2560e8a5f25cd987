using Kubebpf.Otlp.Metrics;
using Kubebpf.Sdk.CallLog;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Otlp.CallLog;

/// <summary>
/// Writes the call log as OTLP log records, of any protocol, with the semantic-convention attributes: what the
/// InfluxDB call log (<c>&lt;protocol&gt;_requests</c>) holds and nothing more (the resource as the parser kept it,
/// its details' fields). Which exchanges get a record is the SDK's call-log policy (<see cref="CallLogSampler"/>, as
/// in the R.E.D. plugin): errors and slow calls within their allowance at once, and at each flush of the agent the
/// weighted samples; each record says in <c>kubebpf.sample.weight</c> how many exchanges it stands for. The logger's
/// batch processor bounds what waits for export; drops are counted there.
/// </summary>
internal sealed class CallLogExporter : IEventSubscriber<Exchange>, IFlushable
{
    /// <summary>The attribute holding how many exchanges a record stands for, itself included.</summary>
    public const string WeightAttribute = "kubebpf.sample.weight";

    private readonly ILogger _logger;
    private readonly CallLogSampler? _sampler;
    private readonly Counter _failures;
    private readonly Lock _gate = new();
    private readonly AddressTexts _addresses = new();
    private readonly Dictionary<ProtocolDescriptor, ProtocolKeys> _keys = new(ReferenceEqualityComparer.Instance);
    private readonly List<WeightedExchange> _sample = [];
    private long _windowStartUnixNs;

    public CallLogExporter(OtlpTelemetry telemetry, IAgentMetrics metrics, TimeProvider time)
        : this(telemetry, metrics, telemetry.Options.CallLog.Sampling, time, random: null)
    {
    }

    /// <summary>For tests and benchmarks: the policy as it is, and <paramref name="random"/> (null: a new one) drives the sample.</summary>
    internal CallLogExporter(OtlpTelemetry telemetry, IAgentMetrics metrics, CallLogSamplingOptions sampling, TimeProvider time, Random? random)
    {
        _logger = telemetry.CallLogger ?? throw new InvalidOperationException("The call log is off.");
        _sampler = sampling.Enabled ? new CallLogSampler(sampling, metrics, random) : null;
        _failures = metrics.Counter(
            "log_descriptor_failures", "An exchange left out of the call log because it had no protocol, or its protocol's CanonicalOperation or details threw.");
        _windowStartUnixNs = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * TimeSpan.NanosecondsPerTick;
    }

    public void OnEvents(ReadOnlySpan<Exchange> batch)
    {
        long failures = 0;
        lock (_gate)
        {
            foreach (ref readonly var exchange in batch)
            {
                if (exchange.Protocol is null)
                {
                    failures++;
                }
                else if ((_sampler is null || _sampler.KeepsAtOnce(exchange)) && !TryLog(exchange, weight: 1))
                {
                    failures++;
                }
            }
        }

        AddFailures(failures);
    }

    /// <summary>Logs the window's weighted samples; <paramref name="output"/> is not used: records go to the logger.</summary>
    public void Flush(long windowEndUnixNs, IPointWriter output)
    {
        if (_sampler is null)
        {
            return;
        }

        long failures = 0;
        lock (_gate)
        {
            _sampler.Drain(Math.Max(windowEndUnixNs - _windowStartUnixNs, 1) / 1e9, _sample);
            _windowStartUnixNs = windowEndUnixNs;
            foreach (var (exchange, weight) in _sample)
            {
                if (!TryLog(exchange, weight))
                {
                    failures++;
                }
            }

            _sample.Clear();
        }

        AddFailures(failures);
    }

    private void AddFailures(long failures)
    {
        if (failures > 0)
        {
            _failures.Add(failures);
        }
    }

    /// <summary>Logs the record of <paramref name="exchange"/> (which has a protocol); false when its protocol's code threw.</summary>
    private bool TryLog(in Exchange exchange, long weight)
    {
        ExchangeRecord record;
        ProtocolKeys keys;
        try
        {
            keys = KeysOf(exchange.Protocol);
            record = Record(exchange, keys, weight);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return false; // another plugin's bad input: counted, and it must not stop this subscriber
        }

        var level = exchange.Outcome is ExchangeOutcome.Error or ExchangeOutcome.Timeout ? LogLevel.Warning : LogLevel.Information;
        _logger.Log(level, keys.EventId, record, null, static (state, _) => state.Count > 0 ? (string)state[0].Value! : string.Empty);
        return true;
    }

    private ExchangeRecord Record(in Exchange exchange, ProtocolKeys keys, long weight)
    {
        var protocol = exchange.Protocol;
        var attributes = new List<KeyValuePair<string, object?>>(24)
        {
            new("{OriginalFormat}", protocol.CallLogMeasurement),
        };
        var workload = exchange.Workload;
        ExchangeMetrics.AddWorkload(attributes, workload?.Namespace, workload?.Pod, workload?.WorkloadKind, workload?.WorkloadName, workload?.Node);

        attributes.Add(new("kubebpf.direction", exchange.Direction == TrafficDirection.In ? "in" : "out"));
        attributes.Add(new(SemanticNames.NetworkTransport, SemanticNames.TransportName(exchange.Transport)));
        attributes.Add(new(SemanticNames.ServerAddress, _addresses.Address(exchange.Server)));
        attributes.Add(new(SemanticNames.ServerPort, (long)exchange.Server.Port));
        attributes.Add(new(SemanticNames.ClientAddress, _addresses.Address(exchange.Client)));
        attributes.Add(new(SemanticNames.ClientPort, (long)exchange.Client.Port));
        attributes.Add(new(keys.Operation, protocol.CanonicalOperation(exchange.Operation ?? string.Empty)));
        if (!string.IsNullOrEmpty(exchange.Resource))
        {
            attributes.Add(new(keys.Resource, exchange.Resource));
        }

        if (exchange.Code != -1)
        {
            attributes.Add(new(keys.Code, (long)exchange.Code));
        }

        if (keys.Status is not null && !string.IsNullOrEmpty(exchange.Status))
        {
            attributes.Add(new(keys.Status, exchange.Status));
        }

        if (ExchangeMetrics.ErrorType(exchange) is { } errorType)
        {
            attributes.Add(new(SemanticNames.ErrorType, errorType));
        }

        attributes.Add(new("kubebpf.duration_ns", exchange.DurationNs));
        attributes.Add(new(WeightAttribute, weight));
        if (exchange.RequestBytes >= 0)
        {
            attributes.Add(new(keys.RequestBytes, exchange.RequestBytes));
        }

        if (exchange.ResponseBytes >= 0)
        {
            attributes.Add(new(keys.ResponseBytes, exchange.ResponseBytes));
        }

        AddPeer(attributes, exchange);
        AddDetails(attributes, exchange.Details, keys);
        var start = DateTime.UnixEpoch.AddTicks(exchange.StartUnixNs / TimeSpan.NanosecondsPerTick);
        return new ExchangeRecord([.. attributes], start);
    }

    private static void AddPeer(List<KeyValuePair<string, object?>> attributes, in Exchange exchange)
    {
        if (exchange.Peer is not { } peer)
        {
            return;
        }

        ExchangeMetrics.Add(attributes, "kubebpf.peer.namespace", peer.Namespace);
        ExchangeMetrics.Add(attributes, "kubebpf.peer.pod", peer.Pod);
        ExchangeMetrics.Add(attributes, "kubebpf.peer.workload", peer.WorkloadName);
        ExchangeMetrics.Add(attributes, "kubebpf.peer.service", peer.Service);
    }

    private static void AddDetails(List<KeyValuePair<string, object?>> attributes, IExchangeDetails? details, ProtocolKeys keys)
    {
        if (details is null || details.FieldCount <= 0)
        {
            return;
        }

        var fields = new Field[details.FieldCount];
        details.WriteFields(fields);
        foreach (var field in fields)
        {
            if (string.IsNullOrEmpty(field.Key))
            {
                throw new InvalidOperationException("Details wrote fewer fields than they announced.");
            }

            object value = field.Value.Kind switch
            {
                FieldKind.String => field.Value.AsString,
                FieldKind.Float => field.Value.AsDouble,
                FieldKind.Boolean => field.Value.AsBool,
                _ => field.Value.AsLong,
            };
            attributes.Add(new(keys.Detail(field.Key), value));
        }
    }

    private ProtocolKeys KeysOf(ProtocolDescriptor protocol)
    {
        if (!_keys.TryGetValue(protocol, out var keys))
        {
            keys = new ProtocolKeys(protocol);
            _keys.Add(protocol, keys);
        }

        return keys;
    }

    /// <summary>
    /// The attribute keys of one protocol, made once: the conventions' <c>http.*</c> and <c>url.path</c> for HTTP,
    /// <c>&lt;protocol&gt;.&lt;descriptor name&gt;</c> for the others and for every protocol's detail fields.
    /// </summary>
    private sealed class ProtocolKeys
    {
        private readonly string _prefix;
        private readonly Dictionary<string, string> _details = new(StringComparer.Ordinal);

        public ProtocolKeys(ProtocolDescriptor protocol)
        {
            _prefix = protocol.Name + ".";
            var http = SemanticNames.IsHttp(protocol);
            EventId = new EventId(1, protocol.CallLogMeasurement);
            Operation = http ? SemanticNames.HttpMethod : _prefix + protocol.OperationTag;
            Resource = http ? SemanticNames.UrlPath : _prefix + protocol.ResourceField;
            Code = http ? SemanticNames.HttpStatusCode : _prefix + protocol.CodeField;
            Status = http ? null : _prefix + protocol.StatusTag;
            RequestBytes = http ? "http.request.body.size" : _prefix + "request.size";
            ResponseBytes = http ? "http.response.body.size" : _prefix + "response.size";
        }

        public EventId EventId { get; }

        public string Operation { get; }

        public string Resource { get; }

        public string Code { get; }

        public string? Status { get; }

        public string RequestBytes { get; }

        public string ResponseBytes { get; }

        /// <summary>The key of a detail field, cached (a protocol declares few).</summary>
        public string Detail(string field)
        {
            if (!_details.TryGetValue(field, out var key))
            {
                key = _prefix + field;
                if (_details.Count < 64)
                {
                    _details.Add(field, key);
                }
            }

            return key;
        }
    }
}
