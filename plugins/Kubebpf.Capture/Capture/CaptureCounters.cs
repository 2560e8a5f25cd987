namespace Kubebpf.Capture.Capture;

/// <summary>A reading of <see cref="PacketCapture"/>'s counters, for self-metrics. All are totals since start.</summary>
/// <param name="Packets">Records the filter wrote into the ring buffer.</param>
/// <param name="RingBufferFull">Segments lost because the ring buffer was full.</param>
/// <param name="Truncated">Segments whose payload exceeded the capture size.</param>
/// <param name="UnsupportedIp">IPv4 fragments and IPv6 packets with extension headers, not parsed.</param>
/// <param name="DroppedRecords">Records user space could not use (malformed, or of an interface no longer known).</param>
/// <param name="AttachFailures">Failed attempts to attach to an interface.</param>
/// <param name="AttachedInterfaces">Interfaces observed now.</param>
public readonly record struct CaptureCounters(
    ulong Packets,
    ulong RingBufferFull,
    ulong Truncated,
    ulong UnsupportedIp,
    long DroppedRecords,
    long AttachFailures,
    int AttachedInterfaces);
