using Kubebpf.Sdk.Bpf;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;

namespace ExecProbe;

/// <summary>
/// Loads the embedded exec.bpf.o, attaches it to sched:sched_process_exec and turns each drained batch of records into
/// process_exec points, written once per batch.
/// </summary>
internal sealed partial class ExecTracepointProbe(ExecProbeOptions options, IPointWriter output, IAgentMetrics metrics, ILogger<ExecTracepointProbe> logger)
    : IProbe, IRequiresKernelFeatures
{
    private const string ObjectName = "exec.bpf.o";

    private readonly Counter _execs = metrics.Counter("execs", "exec records decoded into points");
    private readonly Counter _badRecords = metrics.Counter("bad_records", "ring-buffer records that were not an exec_event (dropped)");
    private long _ringbufFull;

    public KernelFeatures RequiredKernelFeatures => KernelFeatures.TraceFs;

    public Task RunAsync(CancellationToken stoppingToken)
    {
        using var bpf = BpfObject.OpenMemory(EmbeddedObject(), "exec", logger);
        bpf.Load();
        var counters = bpf.Map("counters");
        using var ring = new RingBufferReader(bpf.Map("events"));
        using var link = bpf.Program("on_exec").AttachTracepoint("sched", "sched_process_exec");
        LogAttached();

        // The gauge reads a copy: the map is closed once the probe returns, but the host flushes once more after that.
        metrics.Gauge("ringbuf_full", "execs lost in the kernel: the ring buffer was full", () => Interlocked.Read(ref _ringbufFull));
        var handler = new BatchHandler(new Batch(output, _execs, _badRecords), () => Interlocked.Exchange(ref _ringbufFull, (long)counters.SumPerCpu(0)));
        new RingBufferPoller { PollInterval = options.PollInterval }.Run(ring, ref handler, stoppingToken);
        Interlocked.Exchange(ref _ringbufFull, (long)counters.SumPerCpu(0));
        return Task.CompletedTask;
    }

    private static byte[] EmbeddedObject()
    {
        using var stream = typeof(ExecTracepointProbe).Assembly.GetManifestResourceStream(ObjectName)
            ?? throw new InvalidOperationException($"{ObjectName} is not embedded: the build compiles bpf/exec.bpf.c with clang.");
        var elf = new byte[stream.Length];
        stream.ReadExactly(elf);
        return elf;
    }

    /// <summary>Points of the batch being drained; written in one call when the drain ends.</summary>
    private sealed class Batch(IPointWriter output, Counter execs, Counter badRecords)
    {
        private readonly List<MetricPoint> _points = [];
        private long _unixOffsetNs = MonotonicClock.UnixOffsetNanoseconds();

        public void Add(ReadOnlySpan<byte> record)
        {
            if (ExecDecoder.TryDecode(record, out var exec))
            {
                _points.Add(ExecContract.ToPoint(exec, _unixOffsetNs));
            }
            else
            {
                badRecords.Increment();
            }
        }

        public void End()
        {
            output.Write(_points.ToArray());
            execs.Add(_points.Count);
            _points.Clear();
            _unixOffsetNs = MonotonicClock.UnixOffsetNanoseconds(); // follows NTP slewing, once per batch
        }
    }

    private readonly struct BatchHandler(Batch batch, Action readKernelCounters) : IBatchRecordHandler
    {
        public void OnRecord(ReadOnlySpan<byte> record) => batch.Add(record);

        public void OnBatchEnd()
        {
            batch.End();
            readKernelCounters();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Exec probe attached to tracepoint sched:sched_process_exec")]
    private partial void LogAttached();
}
