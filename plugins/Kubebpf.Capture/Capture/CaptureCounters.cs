namespace Kubebpf.Capture.Capture;

/// <summary>A reading of <see cref="PacketCapture"/>'s counters, for self-metrics. All are totals since start.</summary>
/// <param name="Packets">Records the filter wrote into the ring buffer (a large TCP segment takes several).</param>
/// <param name="RingBufferFull">Records lost because the ring buffer was full.</param>
/// <param name="Truncated">TCP segments longer than <see cref="PacketCaptureOptions.MaxSegmentBytes"/> and UDP
/// datagrams longer than a record's payload (4096 bytes): the rest was not copied.</param>
/// <param name="UnsupportedIp">Packets that carry (or may carry) TCP or UDP but could not be parsed: IP fragments,
/// more IPv6 extension headers than the filter walks.</param>
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
