using System.IO.Enumeration;
using System.Runtime.InteropServices;
using Kubebpf.Sdk.Bpf;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Capture.Capture;

/// <summary>
/// Captures TCP segments and UDP datagrams on every interface matching <see cref="PacketCaptureOptions.Interfaces"/>,
/// with the <c>packet_capture</c> socket filter or the <c>capture_ingress</c>/<c>capture_egress</c> tc filters
/// (<see cref="PacketCaptureOptions.Attach"/>), and hands their records to an <see cref="IPacketConsumer"/>.
/// </summary>
/// <remarks>
/// Threading: call <see cref="Start"/> once, then <see cref="Run"/> on one dedicated thread; <see cref="Dispose"/>
/// after <see cref="Run"/> returned. A timer rescans <c>/sys/class/net</c> every
/// <see cref="PacketCaptureOptions.RescanInterval"/> on a pool thread, attaching to new interfaces and releasing
/// vanished ones. <see cref="ReadCounters"/>, <see cref="AttachedInterfaces"/> and
/// <see cref="MonotonicToUnixOffsetNs"/> may be read from any thread.
/// </remarks>
public sealed class PacketCapture : IDisposable
{
    internal const string ObjectResourceName = "packet_capture.bpf.o";
    internal const string ProgramName = "packet_capture";
    internal const string IngressProgramName = "capture_ingress";
    internal const string EgressProgramName = "capture_egress";

    /// <summary>The handle ("kbpf") and priority of the capture's tc filters: a restart replaces what a killed agent left there.</summary>
    internal const uint TcHandle = 0x6b627066;

    /// <summary>Priority 1 runs before other tools' filters, which may end the chain (TC_ACT_OK, a drop, a redirect); ours never does (TC_ACT_UNSPEC).</summary>
    internal const uint TcPriority = 1;

    private const int LoopbackIfIndex = 1;
    internal const string RingBufferMapName = "packets";
    private const string SysClassNet = "/sys/class/net";

    private readonly PacketCaptureOptions _options;
    private readonly WholeSegmentRule _wholeSegments;
    private readonly ILogger _logger;
    private readonly Lock _scanLock = new();
    private readonly Dictionary<string, Attachment> _attached = new(StringComparer.Ordinal);
    private BpfObject? _object;
    private RingBufferReader? _ring;
    private BpfMap? _counters;
    private Timer? _rescanTimer;
    private volatile Dictionary<int, InterfaceInfo> _byIndex = [];
    private Dictionary<int, InterfaceInfo> _released = [];
    private long _droppedRecords;
    private long _attachFailures;
    private long _unixOffsetNs;
    private bool _disposed;

    /// <summary>Creates the capture; nothing touches the kernel before <see cref="Start"/>.</summary>
    /// <param name="options">The capture's configuration.</param>
    /// <param name="logger">Where attach, release and libbpf messages go.</param>
    /// <param name="wholeSegments">Which segments are copied whole (default: <see cref="WholeSegmentRule.Text"/>).</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> fail <see cref="PacketCaptureOptions.Validate"/>.</exception>
    public PacketCapture(PacketCaptureOptions options, ILogger logger, WholeSegmentRule? wholeSegments = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var errors = options.Validate().ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _options = options;
        _logger = logger;
        _wholeSegments = wholeSegments ?? WholeSegmentRule.Text;
    }

    /// <summary>The names of the interfaces observed now (a snapshot).</summary>
    public IReadOnlyCollection<string> AttachedInterfaces
    {
        get
        {
            lock (_scanLock)
            {
                return [.. _attached.Keys];
            }
        }
    }

    /// <summary>
    /// Add to <see cref="PacketHeader.TimestampNs"/> (CLOCK_MONOTONIC) to get Unix nanoseconds. Re-sampled at
    /// every rescan, since the wall clock is slewed.
    /// </summary>
    public long MonotonicToUnixOffsetNs => Volatile.Read(ref _unixOffsetNs);

    /// <summary>
    /// Checks the kernel requirements, loads the capture program of the chosen attachment (segment size and ring size
    /// from the options), maps the ring buffer and attaches to the matching interfaces present now.
    /// </summary>
    /// <exception cref="InvalidOperationException">Privileges or kernel support are missing (the message says what to do).</exception>
    /// <exception cref="BpfException">Loading failed.</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_object is not null)
        {
            throw new InvalidOperationException("PacketCapture is already started.");
        }

        KernelRequirements.Check(_options.RequiredKernelFeatures).ThrowIfUnmet();
        _object = BpfObject.OpenMemory(LoadObject(), ProgramName, _logger);
        SelectPrograms(_object, _options.AttachesTc);
        _object.SetReadOnlyVariable("max_segment_bytes", (uint)_options.MaxSegmentBytes);
        _object.SetReadOnlyVariable("whole_binary_segments", [(byte)(_options.CopyBinarySegments ? 1 : 0)]);
        _wholeSegments.ApplyTo(_object);
        _object.SetMaxEntries(RingBufferMapName, (uint)_options.RingBufferBytes);
        _object.Load();
        _ring = new RingBufferReader(_object.Map(RingBufferMapName));
        _counters = _object.Map("counters");
        Rescan();
        _rescanTimer = new Timer(_ => Rescan(), null, _options.RescanInterval, _options.RescanInterval);
    }

    /// <summary>
    /// Drains the ring buffer into <paramref name="consumer"/> until <paramref name="cancellationToken"/> is cancelled:
    /// drains, calls <see cref="IPacketConsumer.OnBatchEnd"/> after each non-empty batch, sleeps
    /// <see cref="PacketCaptureOptions.PollInterval"/> when the ring is empty, and waits on the ring up to
    /// <see cref="PacketCaptureOptions.IdleWait"/> once it stayed empty that long. Returns after a last drain once
    /// cancelled. Runs on the calling thread (see <see cref="SetDrainPriority"/>); an exception from the consumer ends it.
    /// </summary>
    public void Run(IPacketConsumer consumer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        var ring = _ring ?? throw new InvalidOperationException("Call Start() before Run().");
        var dispatcher = new Dispatcher(this, consumer);
        new RingBufferPoller { PollInterval = _options.PollInterval, IdleWait = _options.IdleWait }.Run(ring, ref dispatcher, cancellationToken);
    }

    /// <summary>
    /// Sets the calling thread's nice value to <see cref="PacketCaptureOptions.DrainNice"/>, for good (call it on the
    /// thread that will <see cref="Run"/>, one of its own; threads it starts afterwards inherit the value); logs a
    /// warning when the kernel refuses.
    /// </summary>
    public void SetDrainPriority()
    {
        var error = DrainPriority.TrySetCurrentThread(_options.DrainNice);
        if (error != 0)
        {
            _logger.LogWarning("Cannot set the ring buffer drain's nice value to {Nice} (errno {Errno}; below 0 needs CAP_SYS_NICE): it keeps {Current}, and a workload of many busy threads may leave it too little CPU, the ring full and records lost (ringbuf_full)",
                _options.DrainNice, error, DrainPriority.CurrentThread());
        }
    }

    /// <summary>Reads the kernel's and the capture's counters (a few syscalls). Zero before <see cref="Start"/>.</summary>
    public CaptureCounters ReadCounters()
    {
        var counters = _counters;
        ulong Kernel(KernelCounter counter) => counters?.SumPerCpu((uint)counter) ?? 0;
        return new CaptureCounters(
            Kernel(KernelCounter.Packets),
            Kernel(KernelCounter.RingBufferFull),
            Kernel(KernelCounter.Truncated),
            Kernel(KernelCounter.UnsupportedIp),
            Interlocked.Read(ref _droppedRecords),
            Interlocked.Read(ref _attachFailures),
            _byIndex.Values.Count(i => i.Attached));
    }

    /// <summary>Stops rescanning, closes every raw socket or removes every tc filter, unmaps the ring buffer and unloads the programs.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_rescanTimer is not null)
        {
            using var stopped = new ManualResetEvent(false);
            if (_rescanTimer.Dispose(stopped))
            {
                stopped.WaitOne();
            }
        }

        lock (_scanLock)
        {
            foreach (var attachment in _attached.Values)
            {
                attachment.Hook.Dispose();
            }

            _attached.Clear();
        }

        _ring?.Dispose();
        _object?.Dispose();
    }

    /// <summary>The embedded <c>packet_capture.bpf.o</c>.</summary>
    internal static byte[] LoadObject()
    {
        using var stream = typeof(PacketCapture).Assembly.GetManifestResourceStream(ObjectResourceName)
            ?? throw new InvalidOperationException($"{ObjectResourceName} is not embedded in {typeof(PacketCapture).Assembly.GetName().Name}: build it with clang (see plugins/Bpf.targets).");
        var elf = new byte[stream.Length];
        stream.ReadExactly(elf);
        return elf;
    }

    /// <summary>Attaches to new matching interfaces and releases vanished (or re-created) ones.</summary>
    internal void Rescan()
    {
        lock (_scanLock)
        {
            if (_disposed || _object is null)
            {
                return;
            }

            Volatile.Write(ref _unixOffsetNs, MonotonicClock.UnixOffsetNanoseconds());
            var present = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var directory in Directory.EnumerateDirectories(SysClassNet))
            {
                var name = Path.GetFileName(directory);
                if (Matches(_options.InterfacePatterns, name) && TryReadIfIndex(directory, out var index))
                {
                    present[name] = index;
                }
            }

            // Records already in the ring may name an interface released now: keep its name until the next rescan.
            _released = [];
            foreach (var (name, attachment) in _attached.ToList())
            {
                if (!present.TryGetValue(name, out var index) || index != attachment.Info.Index)
                {
                    attachment.Hook.Dispose();
                    _attached.Remove(name);
                    _released[attachment.Info.Index] = attachment.Info with { Attached = false };
                    _logger.LogInformation("Released interface {Interface} (ifindex {IfIndex})", name, attachment.Info.Index);
                }
            }

            foreach (var (name, index) in present)
            {
                if (_attached.ContainsKey(name))
                {
                    continue;
                }

                try
                {
                    var info = new InterfaceInfo(name, index, Matches(_options.PeerSidePatterns, name), Attached: true);
                    _attached[name] = new Attachment(info, Attach(_object, _options.AttachesTc, index, name));
                    _logger.LogInformation("Observing interface {Interface} (ifindex {IfIndex}, {Side} side)", name, index, info.PeerSide ? "peer" : "local");
                }
                catch (BpfException e)
                {
                    Interlocked.Increment(ref _attachFailures);
                    _logger.LogWarning("Cannot observe interface {Interface}: {Error}", name, e.Message);
                }
            }

            var byIndex = new Dictionary<int, InterfaceInfo>(_released);

            foreach (var attachment in _attached.Values)
            {
                byIndex[attachment.Info.Index] = attachment.Info;
            }

            _byIndex = byIndex;
        }
    }

    /// <summary>Makes the object load only the programs of one attachment: tc programs need CAP_NET_ADMIN even to load.</summary>
    internal static void SelectPrograms(BpfObject programs, bool tc)
    {
        programs.Program(ProgramName).SetAutoLoad(!tc);
        programs.Program(IngressProgramName).SetAutoLoad(tc);
        programs.Program(EgressProgramName).SetAutoLoad(tc);
    }

    /// <summary>
    /// Attaches the loaded <paramref name="programs"/> to one interface: a socket, or tc filters (no egress filter on
    /// loopback, whose packets the program keeps as they come in). Disposing the result detaches them.
    /// </summary>
    internal static IDisposable Attach(BpfObject programs, bool tc, int index, string name)
    {
        if (!tc)
        {
            return RawPacketSocket.Open(index, programs.Program(ProgramName).Fd, name);
        }

        var ingress = TcFilter.Attach(programs.Program(IngressProgramName), index, TcDirection.Ingress, TcHandle, TcPriority, name);
        if (index == LoopbackIfIndex)
        {
            return ingress;
        }

        try
        {
            return new TcFilters(ingress, TcFilter.Attach(programs.Program(EgressProgramName), index, TcDirection.Egress, TcHandle, TcPriority, name));
        }
        catch
        {
            ingress.Dispose();
            throw;
        }
    }

    private static bool Matches(IReadOnlyList<string> patterns, string name)
    {
        foreach (var pattern in patterns)
        {
            if (FileSystemName.MatchesSimpleExpression(pattern, name, ignoreCase: false))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryReadIfIndex(string directory, out int index)
    {
        index = 0;
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(directory, "ifindex")), out index);
        }
        catch (IOException)
        {
            return false; // vanished while scanning
        }
    }

    private sealed record InterfaceInfo(string Name, int Index, bool PeerSide, bool Attached);

    private sealed record Attachment(InterfaceInfo Info, IDisposable Hook);

    private sealed class TcFilters(TcFilter ingress, TcFilter egress) : IDisposable
    {
        public void Dispose()
        {
            ingress.Dispose();
            egress.Dispose();
        }
    }

    /// <summary>Mutable: <see cref="Run"/> hands it to the poller by reference.</summary>
    private struct Dispatcher(PacketCapture owner, IPacketConsumer consumer) : IBatchRecordHandler
    {
        // Interfaces seen lately, by ifindex modulo the size, from the map they were found in: records alternate between
        // interfaces (a call between two observed pods crosses both veths), which a cache of the last one missed at
        // every switch, and a rescan replaces the map, which makes the cached interfaces stale.
        private const int CacheSlots = 64;
        private InterfaceInfo?[]? _cache;
        private Dictionary<int, InterfaceInfo>? _map;

        public void OnRecord(ReadOnlySpan<byte> record)
        {
            if (record.Length < PacketHeader.Size)
            {
                Interlocked.Increment(ref owner._droppedRecords);
                return;
            }

            ref readonly var header = ref MemoryMarshal.AsRef<PacketHeader>(record);
            var payload = record[PacketHeader.Size..];
            if (header.CapturedLength > payload.Length || !TryGetInterface((int)header.IfIndex, out var info))
            {
                Interlocked.Increment(ref owner._droppedRecords);
                return;
            }

            var outgoing = header.PacketType == PacketHeader.PacketOutgoing;
            consumer.OnPacket(in header, payload[..header.CapturedLength], info.PeerSide ? outgoing : !outgoing, info.Name);
        }

        public void OnBatchEnd() => consumer.OnBatchEnd();

        public void OnIdle() => consumer.OnIdle();

        private bool TryGetInterface(int index, out InterfaceInfo info)
        {
            var map = owner._byIndex;
            _cache ??= new InterfaceInfo?[CacheSlots];
            if (!ReferenceEquals(map, _map))
            {
                Array.Clear(_cache);
                _map = map;
            }

            ref var slot = ref _cache[index & (CacheSlots - 1)];
            if (slot is { } cached && cached.Index == index)
            {
                info = cached;
                return true;
            }

            if (!map.TryGetValue(index, out info!))
            {
                return false;
            }

            slot = info;
            return true;
        }
    }
}
