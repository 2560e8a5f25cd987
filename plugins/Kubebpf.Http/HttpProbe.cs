using System.Runtime.CompilerServices;
using Kubebpf.Http.Capture;
using Kubebpf.Http.Tracking;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Http;

/// <summary>
/// Runs the capture on the probe's own thread and feeds every segment to the tracker; completed exchanges are named
/// (interface, workload, peer) and published once per drained batch.
/// </summary>
internal sealed partial class HttpProbe(
    SegmentCaptureOptions captureOptions,
    HttpTrackerOptions trackerOptions,
    IEventPublisher<HttpExchange> publisher,
    IWorkloadResolver resolver,
    IAgentMetrics metrics,
    ILogger<HttpProbe> logger) : IProbe, IRequiresKernelFeatures
{
    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromSeconds(1);

    // Replaced whole by the capture thread, read by the flush thread's gauges.
    private StrongBox<CaptureCounters> _lastCounters = new(default);

    /// <summary>Socket filters need privileges only: no BTF, no tracefs.</summary>
    public KernelFeatures RequiredKernelFeatures => KernelFeatures.None;

    public Task RunAsync(CancellationToken stoppingToken)
    {
        using var capture = new SegmentCapture(captureOptions, logger);
        capture.Start();
        RegisterCaptureGauges();
        LogStarted(string.Join(", ", capture.AttachedInterfaces.Order(StringComparer.Ordinal)), string.Join(", ", captureOptions.InterfacePatterns));
        var assembler = new ExchangeAssembler(trackerOptions, metrics, capture.MonotonicToUnixOffsetNs, publisher, resolver);
        var housekeeping = Environment.TickCount64;
        assembler.BatchEnded += () =>
        {
            if (Environment.TickCount64 - housekeeping >= HousekeepingInterval.TotalMilliseconds)
            {
                housekeeping = Environment.TickCount64;
                assembler.Tracker.MonotonicToUnixOffsetNs = capture.MonotonicToUnixOffsetNs;
                assembler.EvictIdle((long)MonotonicClock.NowNanoseconds());
                Volatile.Write(ref _lastCounters, new StrongBox<CaptureCounters>(capture.ReadCounters()));
            }
        };

        capture.Run(assembler, stoppingToken);
        assembler.EvictIdle((long)MonotonicClock.NowNanoseconds());
        Volatile.Write(ref _lastCounters, new StrongBox<CaptureCounters>(capture.ReadCounters()));
        return Task.CompletedTask;
    }

    private CaptureCounters Last => Volatile.Read(ref _lastCounters).Value;

    private void RegisterCaptureGauges()
    {
        metrics.Gauge("segments", "TCP segments the socket filter delivered", () => (long)Last.Segments);
        metrics.Gauge("ringbuf_full", "segments lost in the kernel: the ring buffer was full", () => (long)Last.RingBufferFull);
        metrics.Gauge("partial_segments", "segments longer than CaptureBytes: the rest was skipped by sequence number, a loss only where it cut a head (see desyncs)", () => (long)Last.Truncated);
        metrics.Gauge("unsupported_ip", "IPv4 fragments and IPv6 extension-header packets not parsed", () => (long)Last.UnsupportedIp);
        metrics.Gauge("dropped_records", "ring-buffer records user space could not use", () => Last.DroppedRecords);
        metrics.Gauge("attach_failures", "failed attempts to attach to an interface", () => Last.AttachFailures);
        metrics.Gauge("attached_interfaces", "interfaces observed now", () => Last.AttachedInterfaces);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP probe attached to [{Interfaces}] (patterns: {Patterns})")]
    private partial void LogStarted(string interfaces, string patterns);
}
