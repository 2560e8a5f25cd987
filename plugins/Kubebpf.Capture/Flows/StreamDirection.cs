using System.Buffers;

namespace Kubebpf.Capture.Flows;

/// <summary>
/// One direction of a TCP connection: the sequence number expected next, whether it finished, and the bytes its
/// parser (or the protocol sniffers) left unconsumed, kept in a pooled buffer until more arrive. The buffer grows as
/// needed (a short unfinished message holds a short buffer) and is charged to the flows' shared <see cref="KeptBytesBudget"/>.
/// </summary>
internal sealed class StreamDirection(KeptBytesBudget budget)
{
    private const int MinimumBuffer = 256;

    private byte[]? _buffer;

    public bool HasSequence;
    public uint NextSequence;
    public bool Finished;

    /// <summary>When the first kept byte was captured.</summary>
    public long KeptFirstNs;

    /// <summary>What <see cref="Append"/> returns when the budget refused the bytes.</summary>
    public const int Refused = -1;

    public int Kept { get; private set; }

    public ReadOnlySpan<byte> KeptBytes => _buffer.AsSpan(0, Kept);

    /// <summary>
    /// Appends as much of <paramref name="bytes"/> as fits under <paramref name="limit"/> kept bytes; returns how much.
    /// Returns <see cref="Refused"/>, having dropped what was kept, when the larger buffer does not fit in the budget.
    /// </summary>
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
            // Doubling, so that a message arriving in many segments is copied a few times only.
            var wanted = Math.Min(limit, Math.Max(Kept + appended, Math.Max(MinimumBuffer, 2 * (_buffer?.Length ?? 0))));
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(wanted, Kept + appended));
            if (!budget.TryTake(larger.Length - (_buffer?.Length ?? 0)))
            {
                ArrayPool<byte>.Shared.Return(larger);
                Release();
                return Refused;
            }

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
            budget.Give(_buffer.Length);
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
