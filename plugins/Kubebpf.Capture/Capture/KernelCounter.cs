namespace Kubebpf.Capture.Capture;

/// <summary>Indices of the filter's per-CPU <c>counters</c> map: mirror of <c>enum capture_counter</c> in <c>packet_capture.h</c>.</summary>
internal enum KernelCounter : uint
{
    /// <summary>Records emitted to the ring buffer.</summary>
    Packets = 0,

    /// <summary>Records lost: the ring buffer was full.</summary>
    RingBufferFull = 1,

    /// <summary>TCP segments past max_segment_bytes, UDP datagrams past a record's payload.</summary>
    Truncated = 2,

    /// <summary>Packets that carry (or may carry) TCP/UDP but cannot be parsed.</summary>
    UnsupportedIp = 3,

    /// <summary>COUNTER_MAX: the map's size.</summary>
    Count = 4,
}
