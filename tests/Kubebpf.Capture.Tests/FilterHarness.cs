using System.Net;
using System.Runtime.InteropServices;
using Kubebpf.Capture.Capture;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Testing;

namespace Kubebpf.Capture.Tests;

/// <summary>One ring record, copied out of the ring.</summary>
internal sealed record CapturedRecord(PacketHeader Header, byte[] Payload)
{
    public IPAddress Source { get; } = Address(Header.SourceAddress, Header.Family);

    public IPAddress Destination { get; } = Address(Header.DestinationAddress, Header.Family);

    public bool IsTcp => Header.Protocol == PacketHeader.ProtocolTcp;

    public bool IsUdp => Header.Protocol == PacketHeader.ProtocolUdp;

    public bool Has(byte tcpFlag) => (Header.TcpFlags & tcpFlag) != 0;

    private static IPAddress Address(PacketHeader.Address16 bytes, byte family) =>
        new(((ReadOnlySpan<byte>)bytes)[..(family == 6 ? 16 : 4)]);
}

/// <summary>
/// The capture filter loaded on its own and attached to some interfaces, with its ring drained into
/// <see cref="CapturedRecord"/> copies: what the kernel emits, without <see cref="PacketCapture"/> in between.
/// </summary>
internal sealed class FilterHarness : IDisposable
{
    private readonly BpfObject _object;
    private readonly RingBufferReader _ring;
    private readonly List<IDisposable> _attachments = [];
    private readonly List<CapturedRecord> _records = [];
    private int _malformed;

    private FilterHarness(BpfObject obj)
    {
        _object = obj;
        _ring = new RingBufferReader(obj.Map(PacketCapture.RingBufferMapName));
    }

    /// <summary>Records drained so far.</summary>
    public IReadOnlyList<CapturedRecord> Records => _records;

    /// <summary>Records shorter than a header, or whose length disagrees with their captured_len.</summary>
    public int Malformed => _malformed;

    /// <summary>Loads the filter with <paramref name="maxSegmentBytes"/> and attaches it to <paramref name="interfaces"/>.</summary>
    public static FilterHarness Attach(uint maxSegmentBytes, params string[] interfaces) => Attach(maxSegmentBytes, wholeBinarySegments: false, interfaces);

    /// <summary>Loads the capture programs of <paramref name="attach"/> (socket or tc) and attaches them to <paramref name="interfaces"/>.</summary>
    public static FilterHarness Attach(string attach, params string[] interfaces) =>
        Create(PacketCaptureOptions.MaxSegmentBytesLimit, wholeBinarySegments: false, WholeSegmentRule.Text, attach, interfaces);

    /// <summary>Loads the filter with its two settings and the text rule, and attaches it to <paramref name="interfaces"/>.</summary>
    public static FilterHarness Attach(uint maxSegmentBytes, bool wholeBinarySegments, params string[] interfaces) =>
        Attach(maxSegmentBytes, wholeBinarySegments, WholeSegmentRule.Text, interfaces);

    /// <summary>Loads the socket filter with its settings and attaches it to <paramref name="interfaces"/>.</summary>
    public static FilterHarness Attach(uint maxSegmentBytes, bool wholeBinarySegments, WholeSegmentRule wholeSegments, params string[] interfaces) =>
        Create(maxSegmentBytes, wholeBinarySegments, wholeSegments, PacketCaptureOptions.SocketAttach, interfaces);

    /// <summary>Loads the capture programs of <paramref name="attach"/> with their settings and attaches them to <paramref name="interfaces"/>.</summary>
    private static FilterHarness Create(uint maxSegmentBytes, bool wholeBinarySegments, WholeSegmentRule wholeSegments, string attach, string[] interfaces)
    {
        KernelTest.RequireRoot();
        var tc = new PacketCaptureOptions { Attach = attach }.AttachesTc;
        KernelRequirements.Check(tc ? KernelFeatures.TrafficControl : KernelFeatures.RawSockets).ThrowIfUnmet();
        var obj = OpenObject();
        FilterHarness? harness = null;
        try
        {
            obj.SetReadOnlyVariable("max_segment_bytes", maxSegmentBytes);
            obj.SetReadOnlyVariable("whole_binary_segments", [(byte)(wholeBinarySegments ? 1 : 0)]);
            wholeSegments.ApplyTo(obj);
            obj.SetMaxEntries(PacketCapture.RingBufferMapName, 8 << 20);
            PacketCapture.SelectPrograms(obj, tc);
            obj.Load();
            harness = new FilterHarness(obj);
            foreach (var name in interfaces)
            {
                var index = int.Parse(File.ReadAllText($"/sys/class/net/{name}/ifindex"), System.Globalization.CultureInfo.InvariantCulture);
                harness._attachments.Add(PacketCapture.Attach(obj, tc, index, name));
            }

            return harness;
        }
        catch
        {
            if (harness is null)
            {
                obj.Dispose();
            }
            else
            {
                harness.Dispose();
            }

            throw;
        }
    }

    /// <summary>The embedded object, opened (not loaded).</summary>
    public static BpfObject OpenObject() => BpfObject.OpenMemory(PacketCapture.LoadObject(), PacketCapture.ProgramName, new ListLogger());

    /// <summary>Drains the ring until <paramref name="condition"/> holds over every record drained so far; fails the test after the deadline.</summary>
    public IReadOnlyList<CapturedRecord> DrainUntil(Func<IReadOnlyList<CapturedRecord>, bool> condition, string what)
    {
        Poll.Until(
            () =>
            {
                var copier = new Copier(this);
                _ring.Drain(ref copier);
                return condition(_records);
            },
            what,
            () => $"{_records.Count} records, counters {string.Join(", ", Enum.GetValues<KernelCounter>().Where(c => c != KernelCounter.Count).Select(c => $"{c}={Counter(c)}"))}");
        return _records;
    }

    /// <summary>The sum over CPUs of one of the filter's counters.</summary>
    public ulong Counter(KernelCounter counter) => _object.Map("counters").SumPerCpu((uint)counter);

    public void Dispose()
    {
        foreach (var attachment in _attachments)
        {
            attachment.Dispose();
        }

        _ring.Dispose();
        _object.Dispose();
    }

    private readonly struct Copier(FilterHarness owner) : IRecordHandler
    {
        public void OnRecord(ReadOnlySpan<byte> record)
        {
            if (record.Length < PacketHeader.Size)
            {
                owner._malformed++;
                return;
            }

            var header = MemoryMarshal.Read<PacketHeader>(record);
            var payload = record[PacketHeader.Size..];
            if (payload.Length != header.CapturedLength)
            {
                owner._malformed++;
            }

            owner._records.Add(new CapturedRecord(header, payload.ToArray()));
        }
    }
}
