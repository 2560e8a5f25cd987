using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Kubebpf.Prometheus.Exposition;

/// <summary>
/// Writes protobuf (proto3 wire format) by field number, for the two Prometheus messages this plugin sends (the
/// exposition's <c>io.prometheus.client.MetricFamily</c> and remote write's <c>prometheus.WriteRequest</c>). A nested
/// message is written into a buffer of its own depth between <see cref="BeginMessage"/> and <see cref="EndMessage"/>,
/// then copied behind its tag and length, so no size is computed twice by hand. The buffers are kept for reuse.
/// </summary>
internal sealed class ProtoWriter
{
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;

    private readonly List<ArrayBufferWriter<byte>> _levels = [new(4096)];
    private int _depth;

    /// <summary>What was written at the outer level.</summary>
    public ReadOnlySpan<byte> Written => _levels[0].WrittenSpan;

    private ArrayBufferWriter<byte> Current => _levels[_depth];

    /// <summary>Starts over, keeping the buffers.</summary>
    public void Reset()
    {
        _depth = 0;
        _levels[0].ResetWrittenCount();
    }

    /// <summary>Starts a nested message; its fields follow, then <see cref="EndMessage"/> or <see cref="EndDelimited"/>.</summary>
    public void BeginMessage()
    {
        _depth++;
        if (_levels.Count == _depth)
        {
            _levels.Add(new ArrayBufferWriter<byte>(256));
        }

        _levels[_depth].ResetWrittenCount();
    }

    /// <summary>Ends the nested message as field <paramref name="field"/> of the enclosing one.</summary>
    public void EndMessage(int field)
    {
        var body = _levels[_depth--].WrittenSpan;
        Tag(field, WireLengthDelimited);
        RawVarint((ulong)body.Length);
        Raw(body);
    }

    /// <summary>Ends the nested message as one of a length-delimited stream (a varint length, no tag).</summary>
    public void EndDelimited()
    {
        var body = _levels[_depth--].WrittenSpan;
        RawVarint((ulong)body.Length);
        Raw(body);
    }

    /// <summary>An unsigned varint field (uint32, uint64, enum, non-negative int64).</summary>
    public void Varint(int field, ulong value)
    {
        Tag(field, WireVarint);
        RawVarint(value);
    }

    /// <summary>A zigzag varint field (sint32, sint64).</summary>
    public void SignedVarint(int field, long value)
    {
        Tag(field, WireVarint);
        RawVarint(ZigZag(value));
    }

    /// <summary>A double field (little-endian fixed 64).</summary>
    public void Double(int field, double value)
    {
        Tag(field, WireFixed64);
        BinaryPrimitives.WriteDoubleLittleEndian(Current.GetSpan(sizeof(double)), value);
        Current.Advance(sizeof(double));
    }

    /// <summary>A string field (UTF-8).</summary>
    public void String(int field, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        Tag(field, WireLengthDelimited);
        RawVarint((ulong)length);
        Encoding.UTF8.GetBytes(value, Current.GetSpan(length));
        Current.Advance(length);
    }

    /// <summary>A packed repeated sint64 field; nothing when empty.</summary>
    public void PackedSignedVarints(int field, ReadOnlySpan<long> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        var length = 0;
        foreach (var value in values)
        {
            length += VarintSize(ZigZag(value));
        }

        Tag(field, WireLengthDelimited);
        RawVarint((ulong)length);
        foreach (var value in values)
        {
            RawVarint(ZigZag(value));
        }
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private void Tag(int field, int wireType) => RawVarint(((ulong)field << 3) | (uint)wireType);

    private void RawVarint(ulong value)
    {
        var span = Current.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        Current.Advance(i);
    }

    private void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Current.GetSpan(bytes.Length));
        Current.Advance(bytes.Length);
    }
}
