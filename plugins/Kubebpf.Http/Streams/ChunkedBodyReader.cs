namespace Kubebpf.Http.Streams;

/// <summary>What a chunked body needs next.</summary>
internal enum ChunkedBodyStatus : byte
{
    NeedMore,
    Done,

    /// <summary>A chunk-size line or a chunk's CRLF is malformed: the stream position is lost.</summary>
    Lost,
}

/// <summary>
/// Follows a chunked body (RFC 9112 7.1) byte by byte through chunk-size lines, so a line split across segments
/// needs no buffer; chunk data is skipped by arithmetic, seen or not.
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

    /// <summary>Reads <paramref name="data"/> from <paramref name="offset"/>, up to the end of the body or of the data.</summary>
    public ChunkedBodyStatus Read(ReadOnlySpan<byte> data, ref int offset)
    {
        while (offset < data.Length)
        {
            if (_phase == Phase.Data)
            {
                var taken = (int)Math.Min(_dataRemaining, data.Length - offset);
                offset += taken;
                TakeData(taken);
                continue;
            }

            var status = Accept(data[offset++]);
            if (status != ChunkedBodyStatus.NeedMore)
            {
                return status;
            }
        }

        return ChunkedBodyStatus.NeedMore;
    }

    /// <summary>
    /// <paramref name="bytes"/> of the body were never seen: they shorten the chunk being read. False when they reach
    /// past its data, where a chunk-size line or a CRLF had to be read.
    /// </summary>
    public bool Skip(long bytes)
    {
        if (_phase != Phase.Data || bytes > _dataRemaining)
        {
            return false;
        }

        TakeData(bytes);
        return true;
    }

    private void TakeData(long bytes)
    {
        _dataRemaining -= bytes;
        BodyBytes += bytes;
        _phase = _dataRemaining == 0 ? Phase.DataEnd : Phase.Data;
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
