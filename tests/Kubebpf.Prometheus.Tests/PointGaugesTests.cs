using Kubebpf.Http;
using Kubebpf.Prometheus.Metrics;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Kubebpf.Prometheus.Tests;

public sealed class PointGaugesTests
{
    private const long Now = 1_700_000_000_000_000_000;

    [Fact]
    public async Task Numeric_fields_become_gauges_named_by_measurement_and_field_with_the_tags_as_labels()
    {
        var (gauges, metrics, _) = Create();
        await gauges.WriteAsync(
            [
                new MetricPoint("kubebpf_agent", [new("node", "n1"), new("component", "Capture")],
                    [new("exchanges", FieldValue.Integer(10)), new("attached_interfaces", FieldValue.Integer(2))], Now),
                new MetricPoint("service_map", [new("source", "cart"), new("destination", "db"), new("empty", "")],
                    [new("requests", FieldValue.Float(1.5)), new("up", FieldValue.Boolean(true)), new("peer", FieldValue.String("10.0.0.1"))], Now),
            ],
            CancellationToken.None);
        await gauges.WriteAsync(
            [new MetricPoint("kubebpf_agent", [new("node", "n1"), new("component", "Capture")], [new("exchanges", FieldValue.Integer(25))], Now)],
            CancellationToken.None);

        var exchanges = Assert.Single(gauges.Family("kubebpf_agent_exchanges").Series);
        Assert.Equal(MetricKind.Gauge, gauges.Family("kubebpf_agent_exchanges").Family.Kind);
        Assert.Equal(25, exchanges.Value);
        Assert.Equal([new("node", "n1"), new("component", "Capture")], exchanges.Labels);
        var requests = Assert.Single(gauges.Family("kubebpf_service_map_requests").Series);
        Assert.Equal(1.5, requests.Value);
        Assert.Equal([new("source", "cart"), new("destination", "db")], requests.Labels);
        Assert.Equal(1, Assert.Single(gauges.Family("kubebpf_service_map_up").Series).Value);
        Assert.Equal(1, metrics.Value("string_fields_ignored"));
        Assert.Equal(4, metrics.Value("series"));
    }

    [Fact]
    public async Task The_call_log_and_red_measurements_of_registered_protocols_and_configured_exclusions_are_left_out()
    {
        var (gauges, metrics, _) = Create();
        await gauges.WriteAsync(
            [
                new MetricPoint("http_requests", [new("pod", "p")], [new("duration_ns", FieldValue.Integer(5))], Now),
                new MetricPoint("http_red", [new("pod", "p")], [new("requests", FieldValue.Integer(5))], Now),
                new MetricPoint("cpu_profile", [new("pod", "p")], [new("samples", FieldValue.Integer(5))], Now),
                new MetricPoint("dns_extras", [new("pod", "p")], [new("answers", FieldValue.Integer(5))], Now),
            ],
            CancellationToken.None);

        var families = new List<FamilySample>();
        gauges.Collect(families);
        Assert.Equal(["kubebpf_dns_extras_answers"], families.Select(f => f.Family.Name));
        Assert.Equal(1, metrics.Value("series"));
    }

    [Fact]
    public void The_left_out_measurements_are_declined_to_the_host_so_that_it_does_not_buffer_them()
    {
        var (gauges, _, _) = Create();
        string[] measurements = ["http_requests", "http_red", "cpu_profile", "cpu_profile_functions", "dns_extras", "kubebpf_agent", "service_map"];

        Assert.Equal(["dns_extras", "kubebpf_agent", "service_map"], measurements.Where(gauges.Accepts));
    }

    [Fact]
    public async Task Idle_gauges_expire_and_new_label_sets_beyond_the_bound_are_counted()
    {
        var (gauges, metrics, time) = Create(maxSeries: 1);
        await gauges.WriteAsync([Gauge("a"), Gauge("b")], CancellationToken.None);
        Assert.Equal(1, metrics.Value("series_overflow"));

        time.Advance(TimeSpan.FromMinutes(11));
        gauges.Flush(Now, new CollectingPointWriter());
        Assert.Equal(1, metrics.Value("expired_gauges"));
        await gauges.WriteAsync([Gauge("b")], CancellationToken.None);
        Assert.Equal("b", Assert.Single(gauges.Family("kubebpf_things_value").Series).Labels[0].Value);
        Assert.Equal(1, metrics.Value("series_overflow"));
    }

    private static MetricPoint Gauge(string name) => new("things", [new("name", name)], [new("value", FieldValue.Integer(1))], Now);

    /// <summary>The plugin's two point sources, sharing one series budget as the plugin wires them.</summary>
    internal static (PointGauges Gauges, ServiceMapCounters Edges, TestAgentMetrics Metrics, FakeTimeProvider Time) CreateWithEdges(int maxSeries = 100)
    {
        var metrics = new TestAgentMetrics();
        var time = new FakeTimeProvider();
        var options = Samples.Options(maxSeries: maxSeries, maxRoutes: 1);
        using var http = PluginHarness.Configure(new HttpPlugin(), "Http", []);
        var catalog = new Catalog([.. http.GetServices<IStreamProtocol>().Select(p => new ProtocolRegistration<IStreamProtocol>(p, "Http", _ => { }))]);
        var budget = new SeriesBudget(maxSeries, metrics);
        var edges = new ServiceMapCounters(Samples.Wrap(options), budget, metrics, time);
        return (new PointGauges(Samples.Wrap(options), budget, metrics, time, catalog, edges), edges, metrics, time);
    }

    private static (PointGauges Gauges, TestAgentMetrics Metrics, FakeTimeProvider Time) Create(int maxSeries = 100)
    {
        var (gauges, _, metrics, time) = CreateWithEdges(maxSeries);
        return (gauges, metrics, time);
    }

    private sealed record Catalog(IReadOnlyList<ProtocolRegistration<IStreamProtocol>> StreamProtocols) : IProtocolCatalog
    {
        public IReadOnlyList<ProtocolRegistration<IDatagramProtocol>> DatagramProtocols => [];
    }
}
