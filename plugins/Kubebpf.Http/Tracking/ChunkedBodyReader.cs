namespace Kubebpf.Http.Tracking;

/// <summary>What a chunked body needs next.</summary>
internal enum ChunkedBodyStatus : byte
{
    NeedMore,
    Done,

    /// <summary>A chunk-size line lies beyond the captured bytes, or is malformed: the stream position is lost.</summary>
    Lost,
}

/// <summary>
/// Follows a chunked body (RFC 9112 7.1) byte by byte through chunk-size lines, so a line split across segments
/// needs no buffer; chunk data is skipped by arithmetic, captured or not.
/// </summary>
internal struct ChunkedBodyReader
{
    private const int MaxSizeDigits = 15;
    private Phase _phase;
    private long _size;
    private int _sizeDigits;
    private long _dataRemaining;
    private bool _trailerLineEmpty;

    private enum Phase : byte
    {
        Size,
        Extension,
        Data,
        DataEnd,
        Trailer,
    }

    /// <summary>Chunk data bytes so far.</summary>
    public long BodyBytes { get; private set; }

    public void Reset() => this = default;

    /// <summary>Reads from <paramref name="offset"/> of a segment of <paramref name="length"/> bytes, of which the first <paramref name="captured"/> are present.</summary>
    public ChunkedBodyStatus Read(ReadOnlySpan<byte> captured, int length, ref int offset)
    {
        while (offset < length)
        {
            if (_phase == Phase.Data)
            {
                var skipped = (int)Math.Min(_dataRemaining, length - offset);
                offset += skipped;
                _dataRemaining -= skipped;
                BodyBytes += skipped;
                _phase = _dataRemaining == 0 ? Phase.DataEnd : Phase.Data;
                continue;
            }

            if (offset >= captured.Length)
            {
                return ChunkedBodyStatus.Lost;
            }

            var status = Accept(captured[offset++]);
            if (status != ChunkedBodyStatus.NeedMore)
            {
                return status;
            }
        }

        return ChunkedBodyStatus.NeedMore;
    }

    private ChunkedBodyStatus Accept(byte b)
    {
        switch (_phase)
        {
            case Phase.Size when char.IsAsciiHexDigit((char)b) && _sizeDigits < MaxSizeDigits:
                _size = (_size << 4) | (long)HexValue(b);
                _sizeDigits++;
                return ChunkedBodyStatus.NeedMore;
            case Phase.Size when _sizeDigits > 0 && b is (byte)';' or (byte)' ' or (byte)'\t' or (byte)'\r':
                _phase = Phase.Extension;
                return ChunkedBodyStatus.NeedMore;
            case Phase.Size or Phase.Extension when b == '\n' && _sizeDigits > 0:
                EndSizeLine();
                return ChunkedBodyStatus.NeedMore;
            case Phase.Extension:
                return ChunkedBodyStatus.NeedMore;
            case Phase.DataEnd when b == '\r':
                return ChunkedBodyStatus.NeedMore;
            case Phase.DataEnd when b == '\n':
                _phase = Phase.Size;
                return ChunkedBodyStatus.NeedMore;
            case Phase.Trailer when b == '\n':
                if (_trailerLineEmpty)
                {
                    return ChunkedBodyStatus.Done;
                }

                _trailerLineEmpty = true;
                return ChunkedBodyStatus.NeedMore;
            case Phase.Trailer:
                _trailerLineEmpty &= b == '\r';
                return ChunkedBodyStatus.NeedMore;
            default:
                return ChunkedBodyStatus.Lost;
        }
    }

    private void EndSizeLine()
    {
        _phase = _size == 0 ? Phase.Trailer : Phase.Data;
        _trailerLineEmpty = true;
        _dataRemaining = _size;
        _size = 0;
        _sizeDigits = 0;
    }

    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
