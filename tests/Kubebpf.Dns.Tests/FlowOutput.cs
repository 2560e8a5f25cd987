using System.Net;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;

namespace Kubebpf.Dns.Tests;

/// <summary>The capture's side for parser tests: a flow's identity, and the exchanges its parser emitted, all flows of one state in one list.</summary>
internal sealed class FlowOutput(List<ParsedExchange> exchanges, FlowIdentity? flow) : IExchangeOutput
{
    public FlowIdentity? Flow => flow;

    public void Emit(in ParsedExchange exchange) => exchanges.Add(exchange);
}

/// <summary>A DNS plugin state with test metrics, and UDP or TCP parsers of clients on made-up interfaces.</summary>
internal sealed class DnsHarness
{
    public const long Second = 1_000_000_000;

    public DnsHarness(DnsOptions? options = null, Func<string, string[]?>? resolvConf = null)
    {
        Options = options ?? new DnsOptions();
        State = new DnsState(Options, Metrics, resolvConf);
    }

    public DnsOptions Options { get; }

    public TestAgentMetrics Metrics { get; } = new();

    public DnsState State { get; }

    public List<ParsedExchange> Exchanges { get; } = [];

    public static FlowIdentity Flow(string client = "10.1.0.5", ushort port = 40000, string iface = "veth-a", TrafficDirection direction = TrafficDirection.Out) =>
        new(NetworkEndpoint.From(IPAddress.Parse(client), port), NetworkEndpoint.From(IPAddress.Parse("10.1.0.53"), 53), iface, direction);

    public IDatagramParser Udp(FlowIdentity? flow = null) =>
        new DnsDatagramProtocol(State).CreateParser(new FlowOutput(Exchanges, flow ?? Flow()));

    public IStreamParser Tcp(FlowIdentity? flow = null) =>
        new DnsStreamProtocol(State).CreateParser(new FlowOutput(Exchanges, flow ?? Flow()));

    public static void Send(IDatagramParser parser, byte[] message, long timestampNs, StreamSide side = StreamSide.Client) =>
        parser.OnDatagram(new DatagramInfo(side, timestampNs, message.Length), message);
}
