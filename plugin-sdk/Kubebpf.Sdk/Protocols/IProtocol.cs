namespace Kubebpf.Sdk.Protocols;

/// <summary>
/// What every protocol tells the capture: its name, which flows it wants to see, and whether a flow's first bytes
/// are its own. Implement <see cref="IStreamProtocol"/> (TCP) or <see cref="IDatagramProtocol"/> (UDP), not this.
/// </summary>
/// <remarks><see cref="Descriptor"/> and <see cref="Match"/> are read once, when the capture starts; all members are called on the capture thread.</remarks>
public interface IProtocol
{
    /// <summary>The protocol's name and measurement naming.</summary>
    ProtocolDescriptor Descriptor { get; }

    /// <summary>Which flows are offered to <see cref="Sniff"/>.</summary>
    ProtocolMatch Match { get; }

    /// <summary>
    /// Whether the first bytes one side of a new flow sent (a TCP stream's start, a UDP flow's first datagram) belong
    /// to this protocol, and if so which side sent them. Must not throw on any input.
    /// </summary>
    SniffResult Sniff(ReadOnlySpan<byte> data, in SniffContext context);
}
