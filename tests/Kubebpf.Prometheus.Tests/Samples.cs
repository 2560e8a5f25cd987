using System.Net;
using Kubebpf.Http;
using Kubebpf.Prometheus.Metrics;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kubebpf.Prometheus.Tests;

/// <summary>Exchanges with readable defaults, and the plugin's parts wired as the plugin wires them.</summary>
internal static class Samples
{
    public static readonly WorkloadIdentity Cart = new("shop", "cart-7d9f-x2b4q", "Deployment", "cart", "cart-svc", "node-1");
    public static readonly WorkloadIdentity Payments = new("shop", "payments-0", "StatefulSet", "payments", "", "node-2");

    public static Exchange Http(
        string path = "/", int status = 200, long durationNs = 1_000_000, TrafficDirection direction = TrafficDirection.In,
        string method = "GET", WorkloadIdentity? workload = null) => new()
    {
        Protocol = HttpProtocolDescriptor.Instance,
        Operation = method,
        Resource = path,
        Code = status,
        Status = $"{status / 100}xx",
        Outcome = status >= 500 ? ExchangeOutcome.Error : status >= 400 ? ExchangeOutcome.ClientError : ExchangeOutcome.Success,
        StartUnixNs = 1_700_000_000_000_000_000,
        DurationNs = durationNs,
        RequestBytes = -1,
        ResponseBytes = -1,
        Transport = Transport.Tcp,
        Client = NetworkEndpoint.From(IPAddress.Parse("10.1.0.5"), 51000),
        Server = NetworkEndpoint.From(IPAddress.Parse("10.1.0.2"), 8080),
        Direction = direction,
        Interface = "veth1",
        Workload = workload ?? Cart,
    };

    public static PrometheusOptions Options(int maxSeries = 10_000, int maxRoutes = 100) =>
        new() { MaxSeries = maxSeries, MaxRoutesPerWorkload = maxRoutes, SeriesIdleTimeout = TimeSpan.FromMinutes(10) };

    public static ExchangeMetrics ExchangeMetrics(PrometheusOptions options, TestAgentMetrics metrics, TimeProvider? time = null) =>
        new(Microsoft.Extensions.Options.Options.Create(options), new SeriesBudget(options.MaxSeries, metrics), metrics, time ?? new FakeTimeProvider());

    /// <summary>The one family named <paramref name="name"/>.</summary>
    public static FamilySample Family(this IMetricSource source, string name)
    {
        var families = new List<FamilySample>();
        source.Collect(families);
        return Assert.Single(families, f => f.Family.Name == name);
    }

    /// <summary>A label's value, or null.</summary>
    public static string? Label(this SeriesSample sample, string name) =>
        sample.Labels.FirstOrDefault(l => l.Key == name).Value;

    public static IOptions<PrometheusOptions> Wrap(PrometheusOptions options) => Microsoft.Extensions.Options.Options.Create(options);
}
