namespace Kubebpf.Sdk.Protocols;

/// <summary>What a protocol makes of the first bytes of a flow.</summary>
public enum SniffResult : byte
{
    /// <summary>Not this protocol.</summary>
    NotThisProtocol,

    /// <summary>Could be: ask again with more bytes (the capture keeps them, up to <see cref="ProtocolMatch.MaxSniffBytes"/>).</summary>
    NeedMoreData,

    /// <summary>This protocol, and the sender of the bytes is the client.</summary>
    SenderIsClient,

    /// <summary>This protocol, and the sender of the bytes is the server (a greeting, a response).</summary>
    SenderIsServer,
}

/// <summary>What the capture knows of a flow when it asks a protocol to sniff it.</summary>
/// <param name="SenderPort">The port the bytes came from.</param>
/// <param name="ReceiverPort">The port they went to.</param>
/// <param name="SenderOpened">True when the capture saw the sender open the connection (its SYN), false when it saw the
/// receiver do it, null when it did not see the start (UDP, or a connection older than the capture).</param>
public readonly record struct SniffContext(ushort SenderPort, ushort ReceiverPort, bool? SenderOpened);

/// <summary>Which flows a protocol is offered: by server port, by sniffing the first bytes, or both.</summary>
/// <param name="Ports">Server ports of the protocol. A flow to or from one of them is offered to this protocol first.</param>
/// <param name="Sniff">Offer flows on any port to <c>Sniff</c>; when false, only flows on <paramref name="Ports"/> are
/// offered, and a protocol that cannot decide from the bytes should answer by port.</param>
public sealed record ProtocolMatch(IReadOnlyList<ushort> Ports, bool Sniff)
{
    /// <summary>The most bytes of a flow's start kept while a protocol answers <see cref="SniffResult.NeedMoreData"/>.</summary>
    public const int MaxSniffBytes = 512;

    /// <summary>Whether <paramref name="port"/> is one of <see cref="Ports"/>.</summary>
    public bool HasPort(ushort port)
    {
        foreach (var candidate in Ports)
        {
            if (candidate == port)
            {
                return true;
            }
        }

        return false;
    }
}
