using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Capture.Flows;

/// <summary>
/// What TCP connections and UDP flows share: their key and interface, their place in the LRU list, which side is
/// the client once a protocol said so, and which way each side's packets travel relative to the observed workload.
/// </summary>
internal abstract class Flow(FlowTracker tracker) : IExchangeOutput
{
    public const int UnknownSide = -1;

    private bool _lowTowardsEndpoint;
    private bool _highTowardsEndpoint;
    private bool _seenFromLow;
    private bool _seenFromHigh;

    public FlowKey Key;
    public long LastSeenNs;
    public Flow? Newer;
    public Flow? Older;

    /// <summary>The interface the flow is seen on (the key's interface, named when the flow began).</summary>
    public string Interface = "";

    /// <summary>0 when the client is <see cref="FlowKey.Low"/>, 1 when High, or <see cref="UnknownSide"/> before classification.</summary>
    public int ClientSide = UnknownSide;

    /// <summary>The protocol's descriptor once classified.</summary>
    public abstract ProtocolDescriptor? Descriptor { get; }

    /// <summary>Whether the client's packets travel towards the observed workload (it serves the call: direction in).</summary>
    public bool ClientTowardsEndpoint => TowardsEndpoint(ClientSide == 0 ? 0 : 1);

    /// <summary>Whether <paramref name="side"/>'s packets travel towards the observed workload, from the other side's when it sent none.</summary>
    public bool TowardsEndpoint(int side)
    {
        var isLow = side == 0;
        var seen = isLow ? _seenFromLow : _seenFromHigh;
        return seen
            ? (isLow ? _lowTowardsEndpoint : _highTowardsEndpoint)
            : !(isLow ? _highTowardsEndpoint : _lowTowardsEndpoint);
    }

    public NetworkEndpoint Endpoint(int side) => side == 0 ? Key.Low : Key.High;

    public StreamSide Role(int side) => side == ClientSide ? StreamSide.Client : StreamSide.Server;

    public void Saw(int side, bool towardsEndpoint)
    {
        if (side == 0)
        {
            _seenFromLow = true;
            _lowTowardsEndpoint = towardsEndpoint;
        }
        else
        {
            _seenFromHigh = true;
            _highTowardsEndpoint = towardsEndpoint;
        }
    }

    public void Emit(in ParsedExchange exchange) => tracker.Emit(this, exchange);

    FlowIdentity? IExchangeOutput.Flow =>
        ClientSide == UnknownSide
            ? null
            : new FlowIdentity(
                Endpoint(ClientSide), Endpoint(1 - ClientSide), Interface, ClientTowardsEndpoint ? TrafficDirection.In : TrafficDirection.Out);

    /// <summary>Ends the flow: its parser emits or counts what it still holds. Buffers are returned.</summary>
    public abstract void Close(long nowNs);

    protected void ResetFlow(in FlowKey key, string interfaceName, long nowNs)
    {
        Key = key;
        Interface = interfaceName;
        LastSeenNs = nowNs;
        ClientSide = UnknownSide;
        _seenFromLow = _seenFromHigh = false;
    }
}
