using System.Net;
using Kubebpf.Http;
using Kubebpf.Otlp.CallLog;
using Kubebpf.Otlp.Metrics;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Kubebpf.Testing.Otlp;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.Otlp.Tests;

/// <summary>One OTLP plugin instance built as the host builds it, pointed at a test receiver, and exchanges to feed it.</summary>
internal sealed class Sink : IDisposable
{
    public static readonly WorkloadIdentity Cart = new("shop", "cart-7d9f-x2b4q", "Deployment", "cart", "cart-svc", "node-1");
    public static readonly WorkloadIdentity Payments = new("shop", "payments-0", "StatefulSet", "payments", "payments-svc", "node-2");
    public static readonly NetworkEndpoint Client = NetworkEndpoint.From(IPAddress.Parse("10.1.0.5"), 51000);
    public static readonly NetworkEndpoint Server = NetworkEndpoint.From(IPAddress.Parse("10.1.0.2"), 8080);
    public const long StartUnixNs = 1_700_000_000_123_456_700;

    private readonly ServiceProvider _provider;

    public Sink(OtlpReceiver receiver, OtlpTransport transport, Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Endpoint"] = receiver.Endpoint(transport),
            ["Protocol"] = transport == OtlpTransport.Grpc ? "grpc" : "http/protobuf",
            ["ExportInterval"] = "00:00:00.200",
            ["ExportTimeout"] = "00:00:05",
        };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        _provider = PluginHarness.Configure(new OtlpPlugin(), "Otlp", all);
        Metrics = (TestAgentMetrics)_provider.GetRequiredService<IAgentMetrics>();
        Exchanges = _provider.GetRequiredService<ExchangeMetrics>();
    }

    public TestAgentMetrics Metrics { get; }

    public ExchangeMetrics Exchanges { get; }

    public CallLogExporter CallLog => _provider.GetRequiredService<CallLogExporter>();

    public IPointSink? AgentMetrics => _provider.GetService<IPointSink>();

    public static Exchange Http(
        string method = "GET", string path = "/ok", int status = 200, long durationNs = 1_000_000, TrafficDirection direction = TrafficDirection.In,
        WorkloadIdentity? workload = null, WorkloadIdentity? peer = null, long startUnixNs = StartUnixNs) => new()
        {
            Protocol = HttpProtocolDescriptor.Instance,
            Operation = method,
            Resource = path,
            Code = status,
            Status = $"{status / 100}xx",
            Outcome = status >= 500 ? ExchangeOutcome.Error : status >= 400 ? ExchangeOutcome.ClientError : ExchangeOutcome.Success,
            StartUnixNs = startUnixNs,
            DurationNs = durationNs,
            RequestBytes = 0,
            ResponseBytes = 3,
            Transport = Transport.Tcp,
            Client = Client,
            Server = Server,
            Direction = direction,
            Interface = "veth0",
            Workload = workload ?? Cart,
            Peer = peer,
            Details = new HttpDetails("HTTP/1.1", "cart.shop", null),
        };

    /// <summary>Disposing the plugin's container exports what is pending and stops the SDK.</summary>
    public void Dispose() => _provider.Dispose();
}
