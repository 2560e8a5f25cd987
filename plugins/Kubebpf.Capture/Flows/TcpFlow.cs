using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Capture.Flows;

/// <summary>Where a TCP connection is in being claimed by a protocol.</summary>
internal enum TcpFlowState : byte
{
    /// <summary>Payload is offered to the protocols at each record's start.</summary>
    Unclassified,

    /// <summary>A protocol claimed it: its parser gets every byte.</summary>
    Parsing,

    /// <summary>No protocol claimed it within the attempts, or its protocol failed: payload is skipped.</summary>
    Ignored,
}

/// <summary>One TCP connection: both directions, who opened it, and its protocol and parser once classified.</summary>
/// <remarks>Reused for later connections (<see cref="Reset"/>), so a stream of short connections does not allocate.</remarks>
internal sealed class TcpFlow(FlowTracker tracker) : Flow(tracker)
{
    private readonly StreamDirection[] _directions = [new(tracker.KeptBytes), new(tracker.KeptBytes)];

    /// <summary>The side whose SYN (without ACK) was seen, or <see cref="Flow.UnknownSide"/> for a connection seen mid-stream.</summary>
    public int InitiatorSide = UnknownSide;

    public TcpFlowState State;
    public ProtocolEntry<IStreamProtocol>? Protocol;
    public IStreamParser? Parser;

    /// <summary>Payload records offered to the protocols without a claim.</summary>
    public int SniffAttempts;

    /// <summary>Some payload was seen.</summary>
    public bool SawPayload;

    /// <summary>The connection-layer figures since the last <see cref="Sdk.Events.TcpConnectionReport"/>.</summary>
    public ConnectionAccount Account;

    public override ProtocolDescriptor? Descriptor => Protocol?.Descriptor;

    public StreamDirection Direction(int side) => _directions[side];

    public void Reset(in FlowKey key, string interfaceName, long nowNs)
    {
        ResetFlow(key, interfaceName, nowNs);
        InitiatorSide = UnknownSide;
        State = TcpFlowState.Unclassified;
        Protocol = null;
        Parser = null;
        SniffAttempts = 0;
        SawPayload = false;
        Account = default;
        _directions[0].Reset();
        _directions[1].Reset();
    }

    public void Classify(ProtocolEntry<IStreamProtocol> protocol, int clientSide)
    {
        Protocol = protocol;
        ClientSide = clientSide;
        State = TcpFlowState.Parsing;
        Parser = protocol.Protocol.CreateParser(this);
    }

    public void Ignore()
    {
        State = TcpFlowState.Ignored;
        Parser = null;
        _directions[0].Release();
        _directions[1].Release();
    }

    public override void Close(long nowNs)
    {
        try
        {
            Parser?.OnClose(nowNs);
        }
        finally
        {
            _directions[0].Release();
            _directions[1].Release();
        }
    }
}
