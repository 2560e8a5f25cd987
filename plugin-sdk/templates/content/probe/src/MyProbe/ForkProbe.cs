using Kubebpf.Sdk.Bpf;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;

namespace MyProbe;

/// <summary>Loads the embedded forks.bpf.o, attaches it, and feeds every drained record to the <see cref="ForkCounter"/>.</summary>
public sealed partial class ForkProbe(ProbeOptions options, ForkCounter counter, IAgentMetrics metrics, ILogger<ForkProbe> logger)
    : IProbe, IRequiresKernelFeatures
{
    private const string ObjectName = "forks.bpf.o";

    /// <summary>FORK_RINGBUF_FULL in bpf/forks.h.</summary>
    private const uint ForkRingbufFull = 0;

    private readonly Counter _badRecords = metrics.Counter("bad_records", "ring-buffer records that were not a fork_event (dropped)");
    private long _ringbufFull;

    /// <summary>Tracepoints need tracefs; the agent mounts it when it can.</summary>
    public KernelFeatures RequiredKernelFeatures => KernelFeatures.TraceFs;

    public Task RunAsync(CancellationToken stoppingToken)
    {
        using var bpf = BpfObject.OpenMemory(EmbeddedObject(), "forks", logger);
        bpf.Load();
        var counters = bpf.Map("counters");
        using var ring = new RingBufferReader(bpf.Map("events"));
        using var link = bpf.Program("on_fork").AttachTracepoint("sched", "sched_process_fork");
        LogAttached();

        // Records the kernel dropped (ring full), read after every drained batch. The gauge reads a copy: the map is
        // closed once the probe returns, but the host flushes once more after that.
        metrics.Gauge("ringbuf_full", "forks lost in the kernel: the ring buffer was full", () => Interlocked.Read(ref _ringbufFull));
        void ReadKernelCounters() => Interlocked.Exchange(ref _ringbufFull, (long)counters.SumPerCpu(ForkRingbufFull));

        var handler = new Handler(counter, _badRecords, ReadKernelCounters);
        new RingBufferPoller { PollInterval = options.PollInterval }.Run(ring, ref handler, stoppingToken);
        ReadKernelCounters();
        return Task.CompletedTask;
    }

    private static byte[] EmbeddedObject()
    {
        using var stream = typeof(ForkProbe).Assembly.GetManifestResourceStream(ObjectName)
            ?? throw new InvalidOperationException($"{ObjectName} is not embedded: the build compiles bpf/forks.bpf.c with clang.");
        var elf = new byte[stream.Length];
        stream.ReadExactly(elf);
        return elf;
    }

    private readonly struct Handler(ForkCounter counter, Counter badRecords, Action readKernelCounters) : IBatchRecordHandler
    {
        public void OnRecord(ReadOnlySpan<byte> record)
        {
            if (ForkDecoder.TryDecode(record, out var fork))
            {
                counter.Add(fork);
            }
            else
            {
                badRecords.Increment();
            }
        }

        public void OnBatchEnd() => readKernelCounters();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fork probe attached to tracepoint sched:sched_process_fork")]
    private partial void LogAttached();
}
