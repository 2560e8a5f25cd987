using System.Buffers;

namespace Kubebpf.Capture.Flows;

/// <summary>
/// One direction of a TCP connection: the sequence number expected next, whether it finished, and the bytes its
/// parser (or the protocol sniffers) left unconsumed, kept in a pooled buffer until more arrive.
/// </summary>
internal sealed class StreamDirection
{
    private byte[]? _buffer;

    public bool HasSequence;
    public uint NextSequence;
    public bool Finished;

    /// <summary>When the first kept byte was captured.</summary>
    public long KeptFirstNs;

    public int Kept { get; private set; }

    public ReadOnlySpan<byte> KeptBytes => _buffer.AsSpan(0, Kept);

    /// <summary>Appends as much of <paramref name="bytes"/> as fits under <paramref name="limit"/> kept bytes; returns how much.</summary>
    public int Append(ReadOnlySpan<byte> bytes, int limit, long capturedNs)
    {
        var appended = Math.Min(bytes.Length, limit - Kept);
        if (appended <= 0)
        {
            return 0;
        }

        if (Kept == 0)
        {
            KeptFirstNs = capturedNs;
        }

        if (_buffer is null || _buffer.Length < Kept + appended)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(limit, Kept + appended));
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, Kept).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = larger;
        }

        bytes[..appended].CopyTo(_buffer.AsSpan(Kept));
        Kept += appended;
        return appended;
    }

    /// <summary>Forgets the first <paramref name="count"/> kept bytes (the first kept byte's time stays: an estimate).</summary>
    public void Consume(int count)
    {
        if (count >= Kept)
        {
            Release();
            return;
        }

        if (count > 0)
        {
            _buffer.AsSpan(count, Kept - count).CopyTo(_buffer);
            Kept -= count;
        }
    }

    /// <summary>Drops the kept bytes and returns the buffer to the pool.</summary>
    public void Release()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        Kept = 0;
    }

    public void Reset()
    {
        Release();
        HasSequence = false;
        NextSequence = 0;
        Finished = false;
        KeptFirstNs = 0;
    }
}
