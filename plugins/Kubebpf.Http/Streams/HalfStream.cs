namespace Kubebpf.Http.Streams;

/// <summary>One direction of a connection: its place in the message stream.</summary>
internal struct HalfStream
{
    public StreamState State;

    /// <summary>Bytes left unconsumed by the last <c>OnData</c>: the capture offers them first next time.</summary>
    public int Kept;

    /// <summary>When the first byte of the current message was seen.</summary>
    public long MessageStartNs;

    /// <summary>Content-Length bytes still to come in <see cref="StreamState.InBody"/>.</summary>
    public long BodyRemaining;

    /// <summary>Body bytes seen in <see cref="StreamState.UntilClose"/>.</summary>
    public long UntilCloseBytes;

    public ChunkedBodyReader Chunks;

    /// <summary>The request whose body this (client) stream is reading.</summary>
    public long BodyOwnerId;

    /// <summary>In <see cref="StreamState.InHead"/>: the start line is complete, so a gap before the head ends can still pair it.</summary>
    public bool HeadHasStartLine;

    /// <summary>Forgets the message in progress.</summary>
    public void ResetMessage(StreamState state)
    {
        State = state;
        BodyRemaining = 0;
        UntilCloseBytes = 0;
        HeadHasStartLine = false;
        Chunks.Reset();
    }
}
