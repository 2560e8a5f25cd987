using System.Buffers;

namespace Kubebpf.Http.Tracking;

/// <summary>One direction of a connection: its expected sequence number and its place in the message stream.</summary>
internal sealed class HalfStream
{
    private byte[]? _headBuffer;
    private int _headBuffered;

    public StreamState State;
    public bool HasSequence;
    public uint NextSequence;

    /// <summary>When the first byte of the current message was seen.</summary>
    public long MessageStartNs;

    /// <summary>Content-Length bytes still to come in <see cref="StreamState.InBody"/>.</summary>
    public long BodyRemaining;

    /// <summary>Body bytes seen in <see cref="StreamState.UntilClose"/>.</summary>
    public long UntilCloseBytes;

    public ChunkedBodyReader Chunks;

    /// <summary>The request whose body this (client) stream is reading.</summary>
    public long BodyOwnerId;

    public int HeadBuffered => _headBuffered;

    /// <summary>
    /// The head bytes so far: <paramref name="data"/> itself, or when a head is already split, the buffer with as much of
    /// <paramref name="data"/> appended as fits under <paramref name="maxHeadBytes"/>.
    /// </summary>
    public ReadOnlySpan<byte> HeadBytes(ReadOnlySpan<byte> data, int maxHeadBytes)
    {
        if (_headBuffer is null)
        {
            return data;
        }

        var appended = Math.Min(data.Length, maxHeadBytes - _headBuffered);
        data[..appended].CopyTo(_headBuffer.AsSpan(_headBuffered));
        return _headBuffer.AsSpan(0, _headBuffered + appended);
    }

    /// <summary>Keeps an incomplete head (all of <paramref name="headBytes"/>, as returned by <see cref="HeadBytes"/>) for the next segment.</summary>
    public void KeepHead(ReadOnlySpan<byte> headBytes, int maxHeadBytes)
    {
        if (_headBuffer is null)
        {
            _headBuffer = ArrayPool<byte>.Shared.Rent(maxHeadBytes);
            headBytes.CopyTo(_headBuffer);
        }

        _headBuffered = headBytes.Length;
        State = StreamState.InHead;
    }

    public void ReleaseHead()
    {
        if (_headBuffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_headBuffer);
            _headBuffer = null;
        }

        _headBuffered = 0;
    }

    /// <summary>Forgets the message in progress; the sequence number stays.</summary>
    public void ResetMessage(StreamState state)
    {
        ReleaseHead();
        State = state;
        BodyRemaining = 0;
        UntilCloseBytes = 0;
        Chunks.Reset();
    }

    public void Reset()
    {
        ResetMessage(StreamState.AwaitingHead);
        HasSequence = false;
        NextSequence = 0;
        MessageStartNs = 0;
        BodyOwnerId = 0;
    }
}
