using Kubebpf.Sdk.Bpf;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Capture.Capture;

/// <summary>Configuration of <see cref="PacketCapture"/> (binds from the plugin's configuration section).</summary>
public sealed class PacketCaptureOptions : IValidatedOptions
{
    /// <summary>CAPTURE_MAX_SEGMENT_BYTES of <c>packet_capture.h</c>: the largest <see cref="MaxSegmentBytes"/>.</summary>
    public const int MaxSegmentBytesLimit = 65536;

    /// <summary><see cref="Attach"/> value: a socket filter on an AF_PACKET socket per interface.</summary>
    public const string SocketAttach = "socket";

    /// <summary><see cref="Attach"/> value: tc clsact filters on each interface's ingress and egress hooks.</summary>
    public const string TcAttach = "tc";

    /// <summary>
    /// How the capture program is attached to each interface: <c>socket</c>, a socket filter on an AF_PACKET socket
    /// (needs CAP_NET_RAW; the kernel clones every sent packet for the packet tap), or <c>tc</c>, filters on the
    /// interface's clsact ingress and egress hooks that see each packet once, without a clone (needs CAP_NET_ADMIN;
    /// they pass every packet on unchanged). Both copy the same records.
    /// </summary>
    public string Attach { get; set; } = SocketAttach;

    /// <summary>Whether <see cref="Attach"/> names the tc attachment (case aside).</summary>
    public bool AttachesTc => string.Equals(Attach, TcAttach, StringComparison.OrdinalIgnoreCase);

    /// <summary>What the chosen <see cref="Attach"/> needs beyond loading programs.</summary>
    public KernelFeatures RequiredKernelFeatures => AttachesTc ? KernelFeatures.TrafficControl : KernelFeatures.RawSockets;

    /// <summary>
    /// Name patterns (<c>*</c>, <c>?</c>) of the interfaces to observe; read at every rescan. Empty means
    /// <c>veth*</c> and <c>lo</c>. (Defaults are not put here: the configuration binder appends to an array, it does not replace it.)
    /// </summary>
    public string[] Interfaces { get; set; } = [];

    /// <summary>
    /// Patterns of interfaces whose observed endpoint is on the far side: a pod's host-side veth, where traffic
    /// towards the pod leaves the host (PACKET_OUTGOING). Other interfaces (lo, eth0) deliver to this host's stack.
    /// </summary>
    /// <remarks>Empty means <c>veth*</c>.</remarks>
    public string[] PeerSideInterfaces { get; set; } = [];

    /// <summary>The interface patterns in force.</summary>
    public IReadOnlyList<string> InterfacePatterns => Interfaces.Length > 0 ? Interfaces : ["veth*", "lo"];

    /// <summary>The peer-side patterns in force.</summary>
    public IReadOnlyList<string> PeerSidePatterns => PeerSideInterfaces.Length > 0 ? PeerSideInterfaces : ["veth*"];

    /// <summary>
    /// TCP payload bytes copied per segment, 0 to <see cref="MaxSegmentBytesLimit"/>; the rest of a larger segment is
    /// reported as not captured (<see cref="PacketHeader.PayloadLength"/> above <see cref="PacketHeader.CapturedLength"/>)
    /// and counted in <see cref="CaptureCounters.Truncated"/>.
    /// </summary>
    public int MaxSegmentBytes { get; set; } = MaxSegmentBytesLimit;

    /// <summary>
    /// Copy every TCP segment whole. Off by default: a segment longer than 8 KiB that does not start with a declared
    /// message start (see <see cref="WholeSegmentRule"/>) lies inside a body, and only its first and last 1 KiB (where
    /// the body may end and a head begin; more on the ports of a protocol that asks for more) are copied, which keeps
    /// bodies from filling the ring. Turn it on for parsers that need every byte.
    /// </summary>
    public bool CopyBinarySegments { get; set; }

    /// <summary>
    /// Ring-buffer size in bytes: a power of two, at least a page. The kernel maps its data pages twice (for records that
    /// wrap), so it costs twice this in resident memory. 8 MiB by measurement: on a loaded two-core machine a 4 MiB ring
    /// lost records in two paced runs of three (the drain stalled by garbage collections), 8 MiB in none of eight.
    /// </summary>
    public int RingBufferBytes { get; set; } = 8 << 20;

    /// <summary>How often <c>/sys/class/net</c> is rescanned for new and vanished interfaces.</summary>
    public TimeSpan RescanInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Sleep between polls of a ring buffer that records left empty: batches the next ones.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// The longest wait on a ring buffer that stayed empty for a <see cref="PollInterval"/>: the capture program wakes
    /// the agent for a record written into an empty ring, so this only paces the housekeeping (idle flows, counters) of an
    /// agent without traffic. 1 s by measurement: at rest the capture thread woke about 90 times a second with 5 ms
    /// polls, once with this.
    /// </summary>
    public TimeSpan IdleWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The default <see cref="DrainNice"/>.</summary>
    public const int DefaultDrainNice = -20;

    /// <summary>
    /// Nice value (-20 to 19) of the thread that drains the ring buffer and parses, and of the threads that carry its
    /// exchanges to the subscribers, set when the capture starts (below 0 needs CAP_SYS_NICE; without it they keep
    /// the process's value and a warning says so). The kernel shares the cores among runnable threads by weight: a
    /// workload of many busy threads (MariaDB and mysqlslap, 100 threads) left the drain, at the default weight, a few
    /// percent of a core, and the kernel lost 88% of the records to a full ring while the agent looked idle. At -10 it
    /// still lost half of them on a loaded machine, at -20 (87 times the default weight) none. The drain only takes
    /// the CPU its records need, at the rate the traffic sets.
    /// </summary>
    public int DrainNice { get; set; } = DefaultDrainNice;

    /// <summary>Bounds of the flow tracker (the <c>Flows</c> subsection).</summary>
    public Flows.FlowTrackerOptions Flows { get; set; } = new();

    /// <inheritdoc/>
    public IEnumerable<string> Validate()
    {
        if (!AttachesTc && !string.Equals(Attach, SocketAttach, StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{nameof(Attach)} must be \"{SocketAttach}\" (a socket filter per interface, needs CAP_NET_RAW) or \"{TcAttach}\" (tc clsact filters, needs CAP_NET_ADMIN), not \"{Attach}\".";
        }

        if (MaxSegmentBytes is < 0 or > MaxSegmentBytesLimit)
        {
            yield return $"{nameof(MaxSegmentBytes)} must lie between 0 and {MaxSegmentBytesLimit}, not {MaxSegmentBytes}.";
        }

        if (RingBufferBytes < Environment.SystemPageSize || !int.IsPow2(RingBufferBytes))
        {
            yield return $"{nameof(RingBufferBytes)} must be a power of two of at least {Environment.SystemPageSize}, not {RingBufferBytes}.";
        }

        if (DrainNice is < -20 or > 19)
        {
            yield return $"{nameof(DrainNice)} must lie between -20 and 19, not {DrainNice}.";
        }

        if (RescanInterval <= TimeSpan.Zero)
        {
            yield return $"{nameof(RescanInterval)} must be positive, not {RescanInterval}.";
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            yield return $"{nameof(PollInterval)} must be positive, not {PollInterval}.";
        }

        if (IdleWait < PollInterval)
        {
            yield return $"{nameof(IdleWait)} must be at least {nameof(PollInterval)} ({PollInterval}), not {IdleWait}.";
        }

        foreach (var error in Flows.Validate())
        {
            yield return $"{nameof(Flows)}:{error}";
        }
    }
}
