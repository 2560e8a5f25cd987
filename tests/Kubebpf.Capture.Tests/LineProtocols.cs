using System.Text;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Capture.Tests;

/// <summary>
/// A tiny text protocol for driving the flow tracker: the client sends <c>REQ name\n</c> lines, the server answers
/// each with <c>OK\n</c> or <c>ERR\n</c>, in order. Its parsers record what the tracker told them. It declares
/// <paramref name="messageStarts"/> (ASCII) as its message starts and asks for body ends of <paramref name="bodyEndBytes"/>.
/// </summary>
internal sealed class LineProtocol(string name = "lines", ushort[]? ports = null, bool sniff = true, int maxBufferedBytes = 64, string[]? messageStarts = null, int bodyEndBytes = 1024) : IStreamProtocol
{
    public ProtocolDescriptor Descriptor { get; } = new(name);

    public ProtocolMatch Match { get; } = new(ports ?? [], sniff);

    public int MaxBufferedBytes => maxBufferedBytes;

    public IReadOnlyList<ReadOnlyMemory<byte>>? MessageStarts { get; } = messageStarts?.Select(s => (ReadOnlyMemory<byte>)Encoding.ASCII.GetBytes(s)).ToList();

    public int BodyEndBytes => bodyEndBytes;

    public List<LineParser> Parsers { get; } = [];

    public List<SniffContext> Sniffed { get; } = [];

    /// <summary>Makes every parser call throw from now on.</summary>
    public bool Throw { get; set; }

    public SniffResult Sniff(ReadOnlySpan<byte> data, in SniffContext context)
    {
        Sniffed.Add(context);
        return Classify(data);
    }

    public IStreamParser CreateParser(IExchangeOutput output)
    {
        var parser = new LineParser(this, output);
        Parsers.Add(parser);
        return parser;
    }

    internal static SniffResult Classify(ReadOnlySpan<byte> data)
    {
        foreach (var (prefix, result) in (ReadOnlySpan<(string, SniffResult)>)[("REQ ", SniffResult.SenderIsClient), ("OK\n", SniffResult.SenderIsServer), ("ERR\n", SniffResult.SenderIsServer)])
        {
            var bytes = Encoding.ASCII.GetBytes(prefix);
            if (data.StartsWith(bytes))
            {
                return result;
            }

            if (bytes.AsSpan().StartsWith(data))
            {
                return SniffResult.NeedMoreData;
            }
        }

        return SniffResult.NotThisProtocol;
    }
}

/// <summary>One connection of <see cref="LineProtocol"/>.</summary>
internal sealed class LineParser(LineProtocol protocol, IExchangeOutput output) : IStreamParser
{
    private readonly Queue<(string Name, long StartNs)> _pending = new();

    public List<(StreamSide Side, long Bytes)> Gaps { get; } = [];

    public List<StreamSide> Fins { get; } = [];

    public int Closes { get; private set; }

    public int OnData(in StreamChunk chunk, ReadOnlySpan<byte> data)
    {
        ThrowIfAsked();
        var consumed = 0;
        while (data[consumed..].IndexOf((byte)'\n') is var end and >= 0)
        {
            var line = Encoding.ASCII.GetString(data.Slice(consumed, end));
            consumed += end + 1;
            if (chunk.Side == StreamSide.Client)
            {
                _pending.Enqueue((line.StartsWith("REQ ", StringComparison.Ordinal) ? line[4..] : line, chunk.FirstByteNs));
            }
            else if (_pending.TryDequeue(out var request))
            {
                output.Emit(new ParsedExchange
                {
                    Operation = "REQ",
                    Resource = request.Name,
                    Code = -1,
                    Status = line == "OK" ? "ok" : "error",
                    Outcome = line == "OK" ? ExchangeOutcome.Success : ExchangeOutcome.Error,
                    StartNs = request.StartNs,
                    DurationNs = chunk.FirstByteNs - request.StartNs,
                    RequestBytes = -1,
                    ResponseBytes = -1,
                });
            }
        }

        return consumed;
    }

    public void OnGap(StreamSide side, long bytes, long timestampNs)
    {
        ThrowIfAsked();
        Gaps.Add((side, bytes));
    }

    public bool OnFin(StreamSide side, long timestampNs)
    {
        ThrowIfAsked();
        Fins.Add(side);
        return side == StreamSide.Client && _pending.Count > 0;
    }

    public void OnClose(long timestampNs)
    {
        ThrowIfAsked();
        Closes++;
    }

    private void ThrowIfAsked()
    {
        if (protocol.Throw)
        {
            throw new InvalidOperationException("parser bug");
        }
    }
}

/// <summary>A datagram protocol: <c>PING name</c> answered by <c>PONG</c>; a ping unanswered at a tick is a timeout.</summary>
internal sealed class PingProtocol(ushort port) : IDatagramProtocol
{
    public ProtocolDescriptor Descriptor { get; } = new("ping");

    public ProtocolMatch Match { get; } = new([port], Sniff: false);

    public List<PingParser> Parsers { get; } = [];

    public SniffResult Sniff(ReadOnlySpan<byte> data, in SniffContext context) =>
        data.StartsWith("PING "u8) ? SniffResult.SenderIsClient
        : data.StartsWith("PONG"u8) ? SniffResult.SenderIsServer
        : SniffResult.NotThisProtocol;

    public IDatagramParser CreateParser(IExchangeOutput output)
    {
        var parser = new PingParser(output);
        Parsers.Add(parser);
        return parser;
    }
}

/// <summary>One flow of <see cref="PingProtocol"/>.</summary>
internal sealed class PingParser(IExchangeOutput output) : IDatagramParser
{
    private (string Name, long StartNs)? _pending;

    public IExchangeOutput Output => output;

    public int Closes { get; private set; }

    public void OnDatagram(in DatagramInfo datagram, ReadOnlySpan<byte> data)
    {
        if (datagram.Side == StreamSide.Client)
        {
            _pending = (Encoding.ASCII.GetString(data[5..]), datagram.TimestampNs);
        }
        else if (_pending is { } ping)
        {
            Emit(ping, datagram.TimestampNs - ping.StartNs, ExchangeOutcome.Success);
        }
    }

    public bool OnTick(long nowNs)
    {
        if (_pending is { } ping && nowNs - ping.StartNs > 1_000_000_000)
        {
            Emit(ping, nowNs - ping.StartNs, ExchangeOutcome.Timeout);
        }

        return _pending is not null;
    }

    public void OnClose(long nowNs) => Closes++;

    private void Emit((string Name, long StartNs) ping, long durationNs, ExchangeOutcome outcome)
    {
        _pending = null;
        output.Emit(new ParsedExchange
        {
            Operation = "PING",
            Resource = ping.Name,
            Code = -1,
            Status = outcome == ExchangeOutcome.Success ? "ok" : "timeout",
            Outcome = outcome,
            StartNs = ping.StartNs,
            DurationNs = durationNs,
            RequestBytes = -1,
            ResponseBytes = -1,
        });
    }
}
