namespace Kubebpf.Sdk.Protocols;

/// <summary>Where and when a datagram was seen.</summary>
/// <param name="Side">Who sent it.</param>
/// <param name="TimestampNs">When it was captured (CLOCK_MONOTONIC ns).</param>
/// <param name="Length">The datagram's payload length; the data handed over may be shorter when the capture cut it.</param>
public readonly record struct DatagramInfo(StreamSide Side, long TimestampNs, int Length);

/// <summary>
/// A UDP protocol: registered by a parser plugin as a singleton. The capture keeps one flow per client and server
/// endpoint pair and offers each new flow's first datagram to the registered protocols.
/// </summary>
/// <remarks>All members are called on the capture thread.</remarks>
public interface IDatagramProtocol : IProtocol
{
    /// <summary>A parser for one flow; its exchanges go to <paramref name="output"/>.</summary>
    IDatagramParser CreateParser(IExchangeOutput output);
}

/// <summary>Parses the datagrams of one flow. Same threading and error rules as <see cref="IStreamParser"/>.</summary>
public interface IDatagramParser
{
    /// <summary>One datagram; the span is valid during the call only.</summary>
    void OnDatagram(in DatagramInfo datagram, ReadOnlySpan<byte> data);

    /// <summary>Called about once a second: emit requests whose answer is overdue. Returns whether requests are still pending.</summary>
    bool OnTick(long nowNs);

    /// <summary>The flow ended (idleness, eviction, shutdown): emit or count what is pending.</summary>
    void OnClose(long nowNs);
}
