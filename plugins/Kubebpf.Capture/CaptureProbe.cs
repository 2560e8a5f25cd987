using System.Runtime.CompilerServices;
using Kubebpf.Capture.Capture;
using Kubebpf.Capture.Flows;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Capture;

/// <summary>
/// Runs the capture on the probe's own thread: every packet goes to the flow tracker, which feeds the registered
/// protocols' parsers; their exchanges, and the reports of every TCP connection, are handed over once per drained batch
/// to relays that publish them on threads of their own (the capture thread waits for a subscriber only when one falls far behind).
/// Housekeeping (idle flows, handshake timeouts, clock offset, kernel counters) runs about once a second between batches.
/// </summary>
internal sealed partial class CaptureProbe(
    PacketCaptureOptions options,
    IProtocolCatalog protocols,
    IEventPublisher<Exchange> publisher,
    IEventPublisher<TcpConnectionReport> connections,
    IWorkloadResolver resolver,
    IAgentMetrics metrics,
    ILogger<CaptureProbe> logger) : IProbe, IRequiresKernelFeatures, IReportsAttachment
{
    private const long HousekeepingIntervalMs = 1000;

    /// <summary>
    /// Events of one kind pending for the subscribers at most, beyond which the drain waits for them: a fifth of a second
    /// of 40,000 statements/s seen on both pods' veths. A larger bound only bridged longer stalls of subscribers starved
    /// of CPU, at a cost in memory (with 65,536 the agent peaked at 192 and 210 MB instead of about 110 in the MySQL
    /// benchmark: the pending exchanges, and each subscriber's copy of the batch, grow to it).
    /// </summary>
    private const int MaxPendingEvents = 16_384;

    // Replaced whole by the capture thread, read by the flush thread's gauges.
    private StrongBox<CaptureCounters> _lastCounters = new(default);

    private readonly TaskCompletionSource _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Socket filters on AF_PACKET sockets (CAP_NET_RAW) or tc filters (CAP_NET_ADMIN) besides CAP_BPF; no BTF, no tracefs.</summary>
    public KernelFeatures RequiredKernelFeatures => options.RequiredKernelFeatures;

    /// <summary>Completes once the capture program is loaded and the capture started.</summary>
    public Task Attached => _attached.Task;

    private CaptureCounters Last => Volatile.Read(ref _lastCounters).Value;

    public Task RunAsync(CancellationToken stoppingToken)
    {
        var stream = protocols.StreamProtocols;
        var datagram = protocols.DatagramProtocols;
        var wholeSegments = WholeSegmentRule.For(stream.Select(p => p.Protocol));
        using var capture = new PacketCapture(options, logger, wholeSegments);
        // Before the relays start: their threads, which carry the drain's output to the subscribers, inherit its priority.
        capture.SetDrainPriority();
        capture.Start();
        _attached.TrySetResult();
        void ReadCounters() => Volatile.Write(ref _lastCounters, new StrongBox<CaptureCounters>(capture.ReadCounters()));
        ReadCounters();
        RegisterCaptureGauges();
        var names = string.Join(", ", stream.Select(p => p.Protocol.Descriptor.Name + "/tcp").Concat(datagram.Select(p => p.Protocol.Descriptor.Name + "/udp")));
        if (names.Length == 0)
        {
            LogNoProtocols();
        }

        LogStarted(string.Join(", ", capture.AttachedInterfaces.Order(StringComparer.Ordinal)), string.Join(", ", options.InterfacePatterns), options.AttachesTc ? PacketCaptureOptions.TcAttach : PacketCaptureOptions.SocketAttach, names);
        LogWholeSegments(string.Join(" ", wholeSegments.Starts.Select(s => $"'{Printable(s)}'")), wholeSegments.TextStarts ? " and text starts (a protocol declares no message starts)" : "", wholeSegments.BodyEndBytes, PortEnds(wholeSegments));
        var waits = metrics.Counter("subscriber_waits", $"times the drain waited for the subscribers because {MaxPendingEvents} exchanges or connection reports were pending (not a loss: the ring buffer holds what comes meanwhile)");
        using var exchanges = new EventRelay<Exchange>(publisher, MaxPendingEvents, waits, "capture exchanges");
        using var reports = new EventRelay<TcpConnectionReport>(connections, MaxPendingEvents, waits, "capture connections");
        var tracker = new FlowTracker(options.Flows, metrics, stream, datagram, resolver, exchanges.Publish, reports.Publish, () => reports.HasSubscribers)
        {
            MonotonicToUnixOffsetNs = capture.MonotonicToUnixOffsetNs,
        };
        var consumer = new HousekeepingConsumer(tracker, () =>
        {
            tracker.MonotonicToUnixOffsetNs = capture.MonotonicToUnixOffsetNs;
            tracker.Tick((long)MonotonicClock.NowNanoseconds());
            ReadCounters();
        });
        capture.Run(consumer, stoppingToken);
        tracker.CloseAll((long)MonotonicClock.NowNanoseconds());
        ReadCounters();
        return Task.CompletedTask;
    }

    private void RegisterCaptureGauges()
    {
        metrics.Gauge("packets", "records the socket filter delivered (not a loss)", () => (long)Last.Packets);
        metrics.Gauge("ringbuf_full", "records lost in the kernel: the ring buffer was full (a loss)", () => (long)Last.RingBufferFull);
        metrics.Gauge("truncated", "TCP segments longer than MaxSegmentBytes and UDP datagrams longer than 4 KiB: the rest was not copied (a loss only where a parser needed it, see stream_gaps)", () => (long)Last.Truncated);
        metrics.Gauge("unsupported_ip", "TCP or UDP packets the filter cannot parse: IP fragments, too many IPv6 extension headers (a loss)", () => (long)Last.UnsupportedIp);
        metrics.Gauge("dropped_records", "ring-buffer records user space could not use (a loss)", () => Last.DroppedRecords);
        metrics.Gauge("attach_failures", "failed attempts to attach to an interface", () => Last.AttachFailures);
        metrics.Gauge("attached_interfaces", "interfaces observed now", () => Last.AttachedInterfaces);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Capture attached to [{Interfaces}] (patterns: {Patterns}; attach: {Attach}); protocols: [{Protocols}]")]
    private partial void LogStarted(string interfaces, string patterns, string attach, string protocols);

    [LoggerMessage(Level = LogLevel.Information, Message = "Segments longer than 8 KiB copied whole when they start with: {Starts}{Text}; of others the first and last {EndBytes} bytes{PortEnds}")]
    private partial void LogWholeSegments(string starts, string text, int endBytes, string portEnds);

    /// <summary>The ports with ends of their own, grouped by size: " (4096 on ports 3306, 3307)", or nothing.</summary>
    private static string PortEnds(WholeSegmentRule rule) =>
        rule.BodyEndPorts.Count == 0
            ? ""
            : " (" + string.Join("; ", rule.BodyEndPorts.GroupBy(p => p.Value, p => p.Key).OrderBy(g => g.Key)
                .Select(g => $"{g.Key} on port{(g.Count() > 1 ? "s" : "")} {string.Join(", ", g.Order())}")) + ")";

    private static string Printable(byte[] start) =>
        string.Concat(start.Select(b => b switch { (byte)'\r' => "\\r", (byte)'\n' => "\\n", >= 0x20 and < 0x7f => ((char)b).ToString(), _ => $"\\x{b:x2}" }));

    [LoggerMessage(Level = LogLevel.Warning, Message = "No protocol parser is configured (add e.g. an Http plugin instance): the capture follows flows but publishes no exchange.")]
    private partial void LogNoProtocols();

    /// <summary>Passes packets to the tracker; after a batch, publishes; after a batch or an empty drain, runs the housekeeping when it is due.</summary>
    private sealed class HousekeepingConsumer(FlowTracker tracker, Action housekeeping) : IPacketConsumer
    {
        private long _lastHousekeepingMs = Environment.TickCount64;

        public void OnPacket(in PacketHeader header, ReadOnlySpan<byte> payload, bool towardsEndpoint, string interfaceName) =>
            tracker.OnPacket(header, payload, towardsEndpoint, interfaceName);

        public void OnBatchEnd()
        {
            tracker.OnBatchEnd();
            OnIdle();
        }

        public void OnIdle()
        {
            if (Environment.TickCount64 - _lastHousekeepingMs >= HousekeepingIntervalMs)
            {
                _lastHousekeepingMs = Environment.TickCount64;
                housekeeping();
            }
        }
    }
}
