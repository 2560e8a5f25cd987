using System.Diagnostics.Metrics;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Otlp.Metrics;

/// <summary>
/// Exports the agent's self-metrics: the host hands every sink its <c>kubebpf_agent</c> points (one per component and
/// flush, one field per counter or gauge); each field becomes a gauge <c>kubebpf.agent.&lt;field&gt;</c> with the
/// attributes <c>kubebpf.component</c> and <c>k8s.node.name</c>, holding the last value written. Other points are the
/// InfluxDB sink's business (this sink reads exchanges directly): as an <see cref="IMeasurementFilter"/> it declares so,
/// and the host keeps them out of its buffers (a batch that holds some anyway is read without them). Field names are bounded.
/// </summary>
internal sealed class AgentMetricsExport(OtlpTelemetry telemetry) : IPointSink, IMeasurementFilter
{
    /// <summary>The measurement of the host's self-metrics.</summary>
    public const string Measurement = "kubebpf_agent";

    private const int MaxFields = 1024;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<(string Component, string Node), long>> _values = new(StringComparer.Ordinal);

    public bool Accepts(string measurement) => measurement == Measurement;

    public ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_gate)
        {
            foreach (var point in batch)
            {
                if (Accepts(point.Measurement))
                {
                    Remember(point);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    private void Remember(MetricPoint point)
    {
        var source = (point.Tag("component") ?? "", point.Tag("node") ?? "");
        foreach (var field in point.Fields)
        {
            if (field.Value.Kind is not (FieldKind.Integer or FieldKind.UInteger or FieldKind.Float))
            {
                continue;
            }

            if (!_values.TryGetValue(field.Key, out var bySource))
            {
                if (_values.Count >= MaxFields)
                {
                    continue;
                }

                bySource = [];
                _values.Add(field.Key, bySource);
                var name = field.Key;
                telemetry.Meter.CreateObservableGauge("kubebpf.agent." + name, () => Observe(name), unit: null, description: "The agent's self-metric " + name + ".");
            }

            bySource[source] = field.Value.AsLong;
        }
    }

    private List<Measurement<long>> Observe(string field)
    {
        lock (_gate)
        {
            var bySource = _values[field];
            var measurements = new List<Measurement<long>>(bySource.Count);
            foreach (var ((component, node), value) in bySource)
            {
                measurements.Add(string.IsNullOrEmpty(node)
                    ? new Measurement<long>(value, new KeyValuePair<string, object?>("kubebpf.component", component))
                    : new Measurement<long>(value, new("kubebpf.component", component), new(SemanticNames.Node, node)));
            }

            return measurements;
        }
    }
}
