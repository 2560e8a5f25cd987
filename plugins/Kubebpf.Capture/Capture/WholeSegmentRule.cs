using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Capture.Capture;

/// <summary>
/// Which TCP segments longer than <see cref="WholeSegmentBytes"/> the socket filter copies whole: those that start
/// with a message start the protocols declared (<see cref="IStreamProtocol.MessageStarts"/>), where heads may lie
/// anywhere (pipelined, or longer than a record). Of any other segment, which lies inside a body, only the first and
/// last bytes are copied: <see cref="BodyEndPorts"/> on the server ports of a protocol that asks for larger ends
/// (<see cref="IStreamProtocol.BodyEndBytes"/>), else <see cref="BodyEndBytes"/>. While a protocol declares no starts,
/// segments that start like text are copied whole too.
/// </summary>
public sealed class WholeSegmentRule
{
    /// <summary>CAPTURE_MAX_MESSAGE_STARTS of <c>packet_capture.h</c>: the most starts the filter compares.</summary>
    public const int MaxStarts = 32;

    /// <summary>The bytes of a segment's start the filter compares.</summary>
    public const int ComparedBytes = 8;

    /// <summary>
    /// CAPTURE_WHOLE_SEGMENT_BYTES of <c>packet_capture.h</c>: segments up to this long are copied whole, whatever they
    /// start with (the continuation of a head longer than its own segment).
    /// </summary>
    public const int WholeSegmentBytes = 8192;

    /// <summary>CAPTURE_BODY_END_BYTES of <c>packet_capture.h</c>: the fewest bytes copied of each end of a segment not copied whole.</summary>
    public const int MinBodyEndBytes = 1024;

    /// <summary>CAPTURE_MAX_BODY_END_BYTES of <c>packet_capture.h</c>: the most bytes copied of each end.</summary>
    public const int MaxBodyEndBytes = 4096;

    /// <summary>CAPTURE_MAX_BODY_END_PORTS of <c>packet_capture.h</c>: the most ports with ends of their own.</summary>
    public const int MaxBodyEndPorts = 16;

    private WholeSegmentRule(IReadOnlyList<byte[]> starts, bool textStarts, int bodyEndBytes, IReadOnlyDictionary<ushort, int> bodyEndPorts)
    {
        Starts = starts;
        TextStarts = textStarts;
        BodyEndBytes = bodyEndBytes;
        BodyEndPorts = bodyEndPorts;
    }

    /// <summary>The rule when no protocol declares its starts: segments that start like text are copied whole.</summary>
    public static WholeSegmentRule Text { get; } = new([], textStarts: true, MinBodyEndBytes, new Dictionary<ushort, int>());

    /// <summary>
    /// The starts the filter compares: each of at most <see cref="ComparedBytes"/>, none a prefix of another, at most
    /// <see cref="MaxStarts"/> (when more were declared, all are cut shorter until they fit: a shorter start matches
    /// more segments, never fewer).
    /// </summary>
    public IReadOnlyList<byte[]> Starts { get; }

    /// <summary>Whether segments that start like text (8 printable ASCII bytes, CR, LF or TAB) are copied whole too.</summary>
    public bool TextStarts { get; }

    /// <summary>Bytes copied of each end of a segment not copied whole on a port not in <see cref="BodyEndPorts"/>: 1, 2 or 4 KiB.</summary>
    public int BodyEndBytes { get; }

    /// <summary>
    /// Server ports whose segments not copied whole are cut to larger ends than <see cref="BodyEndBytes"/> (2 or 4 KiB):
    /// at most <see cref="MaxBodyEndPorts"/>.
    /// </summary>
    public IReadOnlyDictionary<ushort, int> BodyEndPorts { get; }

    /// <summary>
    /// The rule for these protocols: their declared starts, text starts while one of them declares none, and body ends:
    /// on a protocol's server ports (<see cref="ProtocolMatch.Ports"/>) the largest a protocol there asks for; elsewhere
    /// the largest a protocol without ports asks for (it is found by sniffing alone, on any flow), else the fewest.
    /// A protocol with ports that also sniffs gets the default ends on the other ports its flows use.
    /// </summary>
    public static WholeSegmentRule For(IEnumerable<IStreamProtocol> protocols)
    {
        ArgumentNullException.ThrowIfNull(protocols);
        var list = protocols.ToList();
        var defaultEnds = list.Where(p => p.Match.Ports.Count == 0).Select(p => p.BodyEndBytes).DefaultIfEmpty(MinBodyEndBytes).Max();
        var portEnds = list.SelectMany(p => p.Match.Ports.Select(port => (Port: port, Ends: p.BodyEndBytes)))
            .GroupBy(p => p.Port, p => p.Ends)
            .ToDictionary(g => g.Key, g => g.Max());
        return For(list.Select(p => p.MessageStarts), defaultEnds, portEnds);
    }

    /// <summary>
    /// The rule for these declarations (<see cref="IStreamProtocol.MessageStarts"/> of each protocol), with body ends of
    /// <paramref name="bodyEndBytes"/>, and of <paramref name="portEnds"/> on those ports, rounded up to 1, 2 or 4 KiB.
    /// Ports that ask for no more than the default are left out; when more than <see cref="MaxBodyEndPorts"/> ask for
    /// more, the default becomes the largest of them all (larger ends for every flow rather than too small ones for some).
    /// </summary>
    public static WholeSegmentRule For(IEnumerable<IReadOnlyList<ReadOnlyMemory<byte>>?> declarations, int bodyEndBytes = MinBodyEndBytes, IReadOnlyDictionary<ushort, int>? portEnds = null)
    {
        ArgumentNullException.ThrowIfNull(declarations);
        var declared = new List<byte[]>();
        var textStarts = false;
        foreach (var declaration in declarations)
        {
            if (declaration is { } starts)
            {
                declared.AddRange(starts.Select(s => s.ToArray()));
            }
            else
            {
                textStarts = true;
            }
        }

        var length = ComparedBytes;
        var compared = Minimal(declared, length);
        while (compared.Count > MaxStarts)
        {
            compared = Minimal(compared, --length);
        }

        var ends = RoundedEnds(bodyEndBytes);
        var ports = (portEnds ?? new Dictionary<ushort, int>())
            .Select(p => (p.Key, Ends: RoundedEnds(p.Value)))
            .Where(p => p.Ends > ends)
            .ToDictionary(p => p.Key, p => p.Ends);
        if (ports.Count > MaxBodyEndPorts)
        {
            ends = ports.Values.Max();
            ports.Clear();
        }

        return new WholeSegmentRule(compared, textStarts, ends, ports);
    }

    /// <summary>Bytes copied of each end of a segment not copied whole between these ports, as the filter decides.</summary>
    public int BodyEndBytesFor(ushort sourcePort, ushort destinationPort) =>
        Math.Max(BodyEndBytes, Math.Max(BodyEndPorts.GetValueOrDefault(sourcePort), BodyEndPorts.GetValueOrDefault(destinationPort)));

    /// <summary>
    /// Whether a segment longer than <see cref="WholeSegmentBytes"/> that starts with <paramref name="start"/> is copied whole, as the filter
    /// decides: it compares the first <see cref="ComparedBytes"/> bytes (fewer cannot be compared: copied whole).
    /// </summary>
    public bool CopiesWhole(ReadOnlySpan<byte> start)
    {
        if (start.Length < ComparedBytes)
        {
            return true;
        }

        foreach (var declared in Starts)
        {
            if (start.StartsWith(declared))
            {
                return true;
            }
        }

        if (!TextStarts)
        {
            return false;
        }

        foreach (var b in start[..ComparedBytes])
        {
            if (b is (< 0x20 or > 0x7e) and not ((byte)'\r' or (byte)'\n' or (byte)'\t'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Sets the rule in the filter's read-only variables (before it loads).</summary>
    internal void ApplyTo(BpfObject filter)
    {
        filter.SetReadOnlyVariable("message_starts", KernelTable());
        filter.SetReadOnlyVariable("message_start_count", (uint)Starts.Count);
        filter.SetReadOnlyVariable("whole_text_segments", [(byte)(TextStarts ? 1 : 0)]);
        filter.SetReadOnlyVariable("body_end_bytes", (uint)BodyEndBytes);
        filter.SetReadOnlyVariable("body_end_ports", BodyEndPortTable());
        filter.SetReadOnlyVariable("body_end_port_count", (uint)BodyEndPorts.Count);
    }

    /// <summary>The filter's <c>body_end_ports</c> table: per port, a 16-bit port and a 16-bit end size, in host order.</summary>
    private byte[] BodyEndPortTable()
    {
        const int EntryBytes = 2 * sizeof(ushort);
        var table = new byte[MaxBodyEndPorts * EntryBytes];
        var i = 0;
        foreach (var (port, ends) in BodyEndPorts.OrderBy(p => p.Key))
        {
            var endBytes = (ushort)ends;
            MemoryMarshal.Write(table.AsSpan(i * EntryBytes), in port);
            MemoryMarshal.Write(table.AsSpan((i * EntryBytes) + sizeof(ushort)), in endBytes);
            i++;
        }

        return table;
    }

    /// <summary><paramref name="bodyEndBytes"/> rounded up to 1, 2 or 4 KiB.</summary>
    private static int RoundedEnds(int bodyEndBytes)
    {
        var ends = MinBodyEndBytes;
        while (ends < bodyEndBytes && ends < MaxBodyEndBytes)
        {
            ends *= 2;
        }

        return ends;
    }

    /// <summary>The filter's <c>message_starts</c> table: per start, a little-endian value and mask over 8 bytes.</summary>
    private byte[] KernelTable()
    {
        const int EntryBytes = 2 * sizeof(ulong);
        var table = new byte[MaxStarts * EntryBytes];
        Span<byte> value = stackalloc byte[ComparedBytes];
        Span<byte> mask = stackalloc byte[ComparedBytes];
        for (var i = 0; i < Starts.Count; i++)
        {
            value.Clear();
            mask.Clear();
            Starts[i].CopyTo(value);
            mask[..Starts[i].Length].Fill(0xff);
            BinaryPrimitives.WriteUInt64LittleEndian(table.AsSpan(i * EntryBytes), BinaryPrimitives.ReadUInt64LittleEndian(value));
            BinaryPrimitives.WriteUInt64LittleEndian(table.AsSpan((i * EntryBytes) + sizeof(ulong)), BinaryPrimitives.ReadUInt64LittleEndian(mask));
        }

        return table;
    }

    /// <summary>The starts cut to <paramref name="length"/> bytes, without duplicates and without those another one is a prefix of.</summary>
    private static List<byte[]> Minimal(List<byte[]> starts, int length)
    {
        var cut = starts.Select(s => s.Length > length ? s[..length] : s).ToList();
        return [.. cut
            .Where((s, i) => !cut.Where((other, j) => j != i && s.AsSpan().StartsWith(other) && (other.Length < s.Length || j < i)).Any())
            .OrderBy(s => Convert.ToHexString(s), StringComparer.Ordinal)];
    }
}
