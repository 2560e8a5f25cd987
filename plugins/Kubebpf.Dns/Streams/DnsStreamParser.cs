using System.Buffers.Binary;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Dns.Streams;

/// <summary>
/// DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message behind a two-byte length, several per connection, answers in
/// any order (paired by id). TCP has no tick: overdue queries time out when the connection next carries bytes or ends.
/// Search-path answers are not held here (a TCP connection may stay silent long after them).
/// </summary>
internal sealed class DnsStreamParser(DnsState state, IExchangeOutput output) : IStreamParser
{
    /// <summary>The length prefix and the longest message.</summary>
    public const int MaxFrameBytes = 2 + ushort.MaxValue;

    private readonly DnsConversation _conversation = new(state, output, "tcp", holdsExpansions: false);

    public int OnData(in StreamChunk chunk, ReadOnlySpan<byte> data)
    {
        _conversation.OnTick(chunk.TimestampNs);
        var consumed = 0;
        while (data.Length - consumed >= 2)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(data[consumed..]);
            if (data.Length - consumed - 2 < length)
            {
                break;
            }

            // The first message may have begun in bytes kept from an earlier segment; the later ones came with the newest.
            var timestamp = consumed == 0 ? chunk.FirstByteNs : chunk.TimestampNs;
            _conversation.OnMessage(data.Slice(consumed + 2, length), length, timestamp);
            consumed += 2 + length;
        }

        return consumed;
    }

    public void OnGap(StreamSide side, long bytes, long timestampNs) => state.Counters.Desyncs.Increment();

    public bool OnFin(StreamSide side, long timestampNs) => _conversation.OnTick(timestampNs);

    public void OnClose(long timestampNs) => _conversation.OnClose(timestampNs);
}
