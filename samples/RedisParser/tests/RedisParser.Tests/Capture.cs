using System.Text;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace RedisParser.Tests;

/// <summary>
/// Stands in for the capture plugin: hands a parser one connection's segments as the capture does, keeping what the
/// parser leaves unconsumed and offering it again in front of the next segment of that side, with its first time.
/// </summary>
internal sealed class Capture
{
    private readonly Dictionary<StreamSide, (byte[] Bytes, long FirstNs)> _kept = new()
    {
        [StreamSide.Client] = ([], 0),
        [StreamSide.Server] = ([], 0),
    };

    public Capture(int maxPipelinedCommands = 1024)
    {
        Counters = new RedisCounters(Metrics);
        Parser = new RedisConnectionParser(Output, Counters, maxPipelinedCommands);
    }

    public TestMetrics Metrics { get; } = new();

    public CollectingOutput Output { get; } = new();

    public IReadOnlyList<ParsedExchange> Exchanges => Output.Exchanges;

    public IStreamParser Parser { get; }

    /// <summary>The most bytes the parser left unconsumed after any segment.</summary>
    public int MostKept { get; private set; }

    internal RedisCounters Counters { get; }

    public Capture Client(string text, long ns) => Send(StreamSide.Client, Encoding.UTF8.GetBytes(text), ns);

    public Capture Server(string text, long ns) => Send(StreamSide.Server, Encoding.UTF8.GetBytes(text), ns);

    public Capture Send(StreamSide side, byte[] segment, long ns)
    {
        var (kept, keptNs) = _kept[side];
        var data = (byte[])[.. kept, .. segment];
        var firstNs = kept.Length > 0 ? keptNs : ns;
        var consumed = Parser.OnData(new StreamChunk(side, firstNs, ns), data);
        Assert.InRange(consumed, 0, data.Length);
        var rest = data[consumed..];
        _kept[side] = (rest, consumed < kept.Length ? keptNs : ns);
        MostKept = Math.Max(MostKept, rest.Length);
        return this;
    }

    /// <summary>Bytes lost on one side: what was kept goes with them, as the capture does.</summary>
    public Capture Gap(StreamSide side, long bytes, long ns)
    {
        _kept[side] = ([], 0);
        Parser.OnGap(side, bytes, ns);
        return this;
    }

    public Capture Close(long ns)
    {
        Parser.OnClose(ns);
        return this;
    }
}

internal sealed class CollectingOutput : IExchangeOutput
{
    public List<ParsedExchange> Exchanges { get; } = [];

    public void Emit(in ParsedExchange exchange) => Exchanges.Add(exchange);
}

/// <summary>Counters and gauges by name.</summary>
internal sealed class TestMetrics : IAgentMetrics
{
    private readonly Dictionary<string, Counter> _counters = [];

    public Counter Counter(string name, string description)
    {
        if (!_counters.TryGetValue(name, out var counter))
        {
            _counters[name] = counter = new Counter(name, description);
        }

        return counter;
    }

    public void Gauge(string name, string description, Func<long> read) => throw new NotSupportedException("The parser registers no gauge.");

    /// <summary>Every counter that is not zero, by name.</summary>
    public IReadOnlyDictionary<string, long> NonZero => _counters.Values.Where(c => c.Value != 0).ToDictionary(c => c.Name, c => c.Value);
}

internal static class Resp
{
    /// <summary>A command as clients send it: an array of bulk strings.</summary>
    public static string Command(params string[] arguments) =>
        $"*{arguments.Length}\r\n" + string.Concat(arguments.Select(a => $"${Encoding.UTF8.GetByteCount(a)}\r\n{a}\r\n"));

    /// <summary>Operation, status, outcome and reply type of each exchange, for comparing whole conversations.</summary>
    public static string[] Summary(IEnumerable<ParsedExchange> exchanges) =>
        [.. exchanges.Select(e => $"{e.Operation} {e.Status} {e.Outcome} {((RedisReplyDetails)e.Details!).ReplyType} {e.RequestBytes}/{e.ResponseBytes}")];
}
