namespace Kubebpf.Sdk.Protocols;

/// <summary>The two sides of a connection, as the protocol that classified it decided.</summary>
public enum StreamSide : byte
{
    /// <summary>The side that sends requests.</summary>
    Client,

    /// <summary>The side that answers.</summary>
    Server,
}

/// <summary>Where and when bytes handed to <see cref="IStreamParser.OnData"/> were seen.</summary>
/// <param name="Side">Who sent them.</param>
/// <param name="FirstByteNs">When the first byte of the data was captured (CLOCK_MONOTONIC ns): for bytes kept from
/// before, the time of the segment that brought them.</param>
/// <param name="TimestampNs">When the newest bytes (the segment being delivered) were captured.</param>
public readonly record struct StreamChunk(StreamSide Side, long FirstByteNs, long TimestampNs);

/// <summary>
/// A TCP protocol: registered by a parser plugin as a singleton (<c>services.AddSingleton&lt;IStreamProtocol, ...&gt;()</c>).
/// The capture reassembles every TCP connection once (sequence numbers, retransmissions, gaps, FIN/RST, idle
/// eviction) and offers each new one to the registered protocols; the first to claim it gets a parser for it.
/// </summary>
/// <remarks>All members are called on the capture thread.</remarks>
public interface IStreamProtocol : IProtocol
{
    /// <summary>
    /// Bytes the capture keeps per direction when the parser leaves them unconsumed (an incomplete message head); what
    /// does not fit is dropped, counted, and reported to the parser as a gap.
    /// </summary>
    int MaxBufferedBytes { get; }

    /// <summary>
    /// The bytes a message of this protocol can start with (<c>GET </c>, <c>HTTP/</c>), or null (the default) when it
    /// cannot say. The capture copies a TCP segment longer than 8 KiB whole only when it starts with a start one of the
    /// protocols declared (compared over its first 8 bytes): it may hold heads anywhere. Of other segments, which lie
    /// inside bodies, only their ends are copied (see <see cref="BodyEndBytes"/>), and the bytes between reach the
    /// parser as a gap. While
    /// a protocol declares null, segments that start like text (8 printable ASCII bytes) are copied whole too, whatever
    /// they start with. An empty start matches every segment (a parser that needs every byte).
    /// </summary>
    IReadOnlyList<ReadOnlyMemory<byte>>? MessageStarts => null;

    /// <summary>
    /// Bytes of each end of a TCP segment copied to its ends (longer than 8 KiB and inside a body, see
    /// <see cref="MessageStarts"/>) this protocol's parser needs: 1024 (the default) holds where a body ends and a
    /// typical head begins. A parser that finds its place again from the bytes around a gap asks for more (MySQL's row
    /// chains: 4096). The capture rounds it up to 1, 2 or 4 KiB and copies it on this protocol's server ports
    /// (<see cref="ProtocolMatch.Ports"/>; the largest, when protocols share a port); flows on other ports get 1 KiB,
    /// or what a protocol with no ports (found by sniffing alone) asks for. So a flow this protocol sniffs on a port it
    /// did not declare gets those ends: larger ends cost the filter in proportion on every segment of every large body,
    /// and are paid only where they are asked for.
    /// </summary>
    int BodyEndBytes => 1024;

    /// <summary>A parser for one connection; its exchanges go to <paramref name="output"/>.</summary>
    IStreamParser CreateParser(IExchangeOutput output);
}

/// <summary>
/// Parses one TCP connection of its protocol. Called on the capture thread only, never concurrently. Must not
/// throw on bad input: count it (a parser that throws is disabled with its plugin instance, and the capture goes on).
/// </summary>
public interface IStreamParser
{
    /// <summary>
    /// The next bytes of one side, in stream order: first what the parser left unconsumed last time, then the new
    /// bytes. Returns how many it consumed (0 to <c>data.Length</c>); the rest is kept and offered again with the
    /// next bytes of that side. The span is valid during the call only.
    /// </summary>
    int OnData(in StreamChunk chunk, ReadOnlySpan<byte> data);

    /// <summary>
    /// <paramref name="bytes"/> of <paramref name="side"/>'s stream will never be seen (lost in the kernel, beyond the
    /// capture size, or beyond <see cref="IStreamProtocol.MaxBufferedBytes"/>); kept bytes were dropped with them.
    /// The next bytes of that side start a captured segment.
    /// </summary>
    void OnGap(StreamSide side, long bytes, long timestampNs);

    /// <summary><paramref name="side"/> closed its direction (FIN). Return true to keep the connection while answers are still due.</summary>
    bool OnFin(StreamSide side, long timestampNs);

    /// <summary>
    /// The connection ended (RST, FINs, eviction, idleness, shutdown): emit what is complete, count what is lost. It is
    /// the parser's last call: a protocol may hand the parser to a later connection from <see cref="IStreamProtocol.CreateParser"/>.
    /// </summary>
    void OnClose(long timestampNs);
}
