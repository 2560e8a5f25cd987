using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Capture.Flows;

/// <summary>The datagrams between one client and one server endpoint, classified on the first one.</summary>
internal sealed class UdpFlow : Flow
{
    public UdpFlow(FlowTracker tracker, in FlowKey key, string interfaceName, long nowNs, ProtocolEntry<IDatagramProtocol> protocol, int clientSide)
        : base(tracker)
    {
        ResetFlow(key, interfaceName, nowNs);
        Protocol = protocol;
        ClientSide = clientSide;
        Parser = protocol.Protocol.CreateParser(this);
    }

    public ProtocolEntry<IDatagramProtocol> Protocol { get; }

    public IDatagramParser Parser { get; }

    /// <summary>The parser's answer at the last tick: requests still wait for answers, so the flow is kept.</summary>
    public bool HasPending { get; set; }

    public override ProtocolDescriptor Descriptor => Protocol.Descriptor;

    public override void Close(long nowNs) => Parser.OnClose(nowNs);
}
