namespace Kubebpf.Capture.Flows;

/// <summary>
/// The connection-layer figures of one TCP connection since its previous report: how its handshake ended, payload
/// bytes and retransmissions per side. Lives in its <see cref="TcpFlow"/> and is reset with it.
/// </summary>
internal struct ConnectionAccount
{
    /// <summary>When the initiator's first SYN was seen (monotonic ns), or 0.</summary>
    public long SynNs;

    /// <summary>When the connection was last reported (monotonic ns), or 0 before its first report.</summary>
    public long ReportedNs;

    /// <summary>SYN-ACK time minus <see cref="SynNs"/>, set when the SYN-ACK arrives, until reported.</summary>
    public long ConnectTimeNs;

    public long LowBytes;
    public long HighBytes;
    public int LowRetransmissions;
    public int HighRetransmissions;

    /// <summary>The handshake's outcome is known (a SYN-ACK, a RST to the SYN, or the timeout); it is reported once.</summary>
    public HandshakeOutcome Handshake;

    /// <summary>The outcome has not been reported yet.</summary>
    public bool HandshakePending;

    /// <summary>The connection was reported at least once.</summary>
    public bool Reported;

    /// <summary>Something to report: bytes, retransmissions or a handshake outcome since the previous report.</summary>
    public readonly bool HasNews => HandshakePending || LowBytes != 0 || HighBytes != 0 || LowRetransmissions != 0 || HighRetransmissions != 0;

    /// <summary>The initiator's SYN was seen and nothing decided the handshake yet.</summary>
    public readonly bool AwaitingAnswer => SynNs != 0 && Handshake == HandshakeOutcome.Unknown;

    public void AddBytes(int side, long bytes)
    {
        if (side == 0)
        {
            LowBytes += bytes;
        }
        else
        {
            HighBytes += bytes;
        }
    }

    public void AddRetransmission(int side)
    {
        if (side == 0)
        {
            LowRetransmissions++;
        }
        else
        {
            HighRetransmissions++;
        }
    }

    public void Decide(HandshakeOutcome outcome, long connectTimeNs = 0)
    {
        Handshake = outcome;
        HandshakePending = true;
        ConnectTimeNs = connectTimeNs;
    }

    /// <summary>Starts the next report's deltas.</summary>
    public void MarkReported(long nowNs)
    {
        ReportedNs = nowNs;
        Reported = true;
        HandshakePending = false;
        ConnectTimeNs = 0;
        LowBytes = HighBytes = 0;
        LowRetransmissions = HighRetransmissions = 0;
    }
}

/// <summary>How a TCP handshake ended, as far as the packets tell.</summary>
internal enum HandshakeOutcome : byte
{
    /// <summary>Not decided, or the connection was seen mid-stream.</summary>
    Unknown,

    /// <summary>The server answered with a SYN-ACK.</summary>
    Connected,

    /// <summary>The server answered the SYN with a RST.</summary>
    Refused,

    /// <summary>No answer within the handshake timeout.</summary>
    TimedOut,
}
