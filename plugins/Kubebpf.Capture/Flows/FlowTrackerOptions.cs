using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Capture.Flows;

/// <summary>Bounds of <see cref="FlowTracker"/>: how many flows, for how long, how hard to try classifying one.</summary>
public sealed class FlowTrackerOptions : IValidatedOptions
{
    /// <summary>TCP connections and UDP flows tracked at once; beyond it the least recently active one is evicted (counted).</summary>
    public int MaxFlows { get; set; } = 65536;

    /// <summary>A TCP connection without packets for this long is closed (its parser emits or counts what is pending).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A UDP flow without datagrams and without pending requests for this long is closed.</summary>
    public TimeSpan DatagramIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Payload records of a TCP connection offered to the protocols before it is left unclassified.</summary>
    public int MaxSniffAttempts { get; set; } = 8;

    /// <summary>A SYN without an answer (SYN-ACK or RST) for this long is a connect timed out (reported once; the flow stays until idle).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a connection that carries bytes is reported (<c>TcpConnectionReport</c>) besides its handshake and its end.</summary>
    public TimeSpan ConnectionReportInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Bytes all TCP flows together may keep for unfinished messages (pooled buffers, both directions); a flow that would
    /// grow past it drops what it kept, counted in <c>kept_bytes_refused</c>. The default, 64 MiB, keeps the worst case
    /// (every tracked connection holding a full head of its protocol's <c>MaxBufferedBytes</c>: about 1 GiB per direction
    /// at 65,536 flows of 16 KiB) well inside the DaemonSet's 512 MiB memory limit.
    /// </summary>
    public long KeptBytesBudget { get; set; } = 64L << 20;

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (MaxFlows is < 16 or > 4_194_304)
        {
            yield return $"MaxFlows must be between 16 and 4194304, got {MaxFlows}.";
        }

        if (IdleTimeout < TimeSpan.FromSeconds(1))
        {
            yield return $"IdleTimeout must be at least 1 s, got {IdleTimeout}.";
        }

        if (DatagramIdleTimeout < TimeSpan.FromSeconds(1))
        {
            yield return $"DatagramIdleTimeout must be at least 1 s, got {DatagramIdleTimeout}.";
        }

        if (HandshakeTimeout < TimeSpan.FromMilliseconds(100) || HandshakeTimeout >= IdleTimeout)
        {
            yield return $"HandshakeTimeout must be at least 100 ms and shorter than IdleTimeout ({IdleTimeout}), got {HandshakeTimeout}.";
        }

        if (ConnectionReportInterval < TimeSpan.FromSeconds(1))
        {
            yield return $"ConnectionReportInterval must be at least 1 s, got {ConnectionReportInterval}.";
        }

        if (KeptBytesBudget < 1L << 20)
        {
            yield return $"KeptBytesBudget must be at least 1048576 (1 MiB), got {KeptBytesBudget}.";
        }

        if (MaxSniffAttempts is < 1 or > 1000)
        {
            yield return $"MaxSniffAttempts must be between 1 and 1000, got {MaxSniffAttempts}.";
        }
    }
}
