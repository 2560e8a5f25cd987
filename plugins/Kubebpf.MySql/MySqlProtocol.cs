using Kubebpf.MySql.Fingerprints;
using Kubebpf.MySql.Protocol;
using Kubebpf.MySql.Streams;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.MySql;

/// <summary>
/// MySQL on TCP: recognises a connection by the server greeting (any port when sniffing), or on its ports by a
/// client command too (a connection older than the capture), and parses each one with a <see cref="MySqlStreamParser"/>.
/// The counters and the fingerprinter are shared by all its connections (they all run on the capture thread).
/// </summary>
internal sealed class MySqlProtocol : IStreamProtocol
{
    private const int MaxSqlStates = 512;
    private readonly Dictionary<long, string> _sqlStates = [];

    public MySqlProtocol(MySqlOptions options, IAgentMetrics metrics)
    {
        Options = options;
        Counters = new MySqlCounters(metrics);
        Fingerprinter = new StatementFingerprinter(options.MaxFingerprintLength, options.MaxInternedFingerprints);
        Match = new ProtocolMatch(options.ServerPorts, options.Sniff);
    }

    public ProtocolDescriptor Descriptor => MySqlProtocolDescriptor.Instance;

    public ProtocolMatch Match { get; }

    /// <summary>The parser consumes every byte it is given (it keeps partial headers itself): nothing needs keeping.</summary>
    public int MaxBufferedBytes => 0;

    /// <summary>
    /// None: a packet starts with its binary length, so no prefix marks a command. Large segments reach the parser as
    /// their first and last 4 KiB with a gap between, which it counts (rows estimated, statements kept as far as seen).
    /// </summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> MessageStarts => [];

    /// <summary>
    /// 4 KiB: after a gap inside rows the parser finds its place again from a chain of packets in the next captured
    /// end, and estimates the rows between from the sizes of the rows around the gap; 1 KiB ends hold too few rows for
    /// the count to come out exact.
    /// </summary>
    public int BodyEndBytes => 4096;

    public MySqlOptions Options { get; }

    public MySqlCounters Counters { get; }

    public StatementFingerprinter Fingerprinter { get; }

    /// <summary>The shared string of a five-character SQLSTATE (a few dozen occur in practice; bounded all the same).</summary>
    public string SqlState(ReadOnlySpan<byte> state)
    {
        var key = (long)state[0] | ((long)state[1] << 8) | ((long)state[2] << 16) | ((long)state[3] << 24) | ((long)state[4] << 32);
        if (_sqlStates.TryGetValue(key, out var known))
        {
            return known;
        }

        var text = System.Text.Encoding.ASCII.GetString(state);
        if (_sqlStates.Count < MaxSqlStates)
        {
            _sqlStates.Add(key, text);
        }

        return text;
    }

    public SniffResult Sniff(ReadOnlySpan<byte> data, in SniffContext context)
    {
        if (data.Length < Wire.HeaderBytes + 1)
        {
            return SniffResult.NeedMoreData;
        }

        var length = Wire.PayloadLength(data);
        var sequence = data[3];
        var payload = data[Wire.HeaderBytes..];
        if (sequence == 0 && payload[0] == Wire.ProtocolVersion10 && length is > 20 and <= Handshake.MaxGreetingPayload)
        {
            if (payload.Length < length)
            {
                return data.Length < ProtocolMatch.MaxSniffBytes ? SniffResult.NeedMoreData : SniffResult.NotThisProtocol;
            }

            return Handshake.TryReadGreeting(payload[..length], out _) ? SniffResult.SenderIsServer : SniffResult.NotThisProtocol;
        }

        // A connection older than the capture starts mid-conversation: on a MySQL port, a client command packet will do.
        return Match.HasPort(context.ReceiverPort) && sequence == 0 && length >= 1 && Wire.CommandName(payload[0]) is not null
            && (payload.Length <= length || IsCommandHeader(payload[length..]))
            ? SniffResult.SenderIsClient
            : SniffResult.NotThisProtocol;
    }

    /// <summary>Bytes behind a command in one record are the next pipelined command (or the start of its header).</summary>
    private static bool IsCommandHeader(ReadOnlySpan<byte> next) =>
        next.Length < Wire.HeaderBytes + 1 || (next[3] == 0 && Wire.CommandName(next[Wire.HeaderBytes]) is not null);

    public IStreamParser CreateParser(IExchangeOutput output) => new MySqlStreamParser(this, output);
}
