using System.Text;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;

namespace Kubebpf.Http.Tests;

/// <summary>
/// Plays the capture's side of the <see cref="IStreamParser"/> contract for one connection: keeps what the parser left
/// unconsumed and offers it again before the next bytes of that side, with the time its first byte arrived.
/// </summary>
internal sealed class StreamDriver : IExchangeOutput
{
    private readonly byte[][] _kept = [[], []];
    private readonly long[] _keptSinceNs = new long[2];

    public StreamDriver(HttpOptions? options = null)
    {
        Metrics = new TestAgentMetrics();
        Protocol = new HttpProtocol(options ?? new HttpOptions(), Metrics);
        Parser = Protocol.CreateParser(this);
    }

    /// <summary>A later connection of the same protocol (and counters) as <paramref name="earlier"/>.</summary>
    public StreamDriver(StreamDriver earlier)
    {
        Metrics = earlier.Metrics;
        Protocol = earlier.Protocol;
        Parser = Protocol.CreateParser(this);
    }

    public TestAgentMetrics Metrics { get; }

    public HttpProtocol Protocol { get; }

    public IStreamParser Parser { get; }

    public List<ParsedExchange> Exchanges { get; } = [];

    public void Emit(in ParsedExchange exchange) => Exchanges.Add(exchange);

    public void Client(string text, long timestampNs) => Data(StreamSide.Client, Encoding.ASCII.GetBytes(text), timestampNs);

    public void Server(string text, long timestampNs) => Data(StreamSide.Server, Encoding.ASCII.GetBytes(text), timestampNs);

    public void Data(StreamSide side, ReadOnlySpan<byte> bytes, long timestampNs)
    {
        var kept = _kept[(int)side];
        var firstByteNs = kept.Length > 0 ? _keptSinceNs[(int)side] : timestampNs;
        byte[] data = [.. kept, .. bytes];
        var consumed = Parser.OnData(new StreamChunk(side, firstByteNs, timestampNs), data);
        Assert.InRange(consumed, 0, data.Length);
        Assert.True(data.Length - consumed < Protocol.MaxBufferedBytes, "the parser keeps less than a head's bound");
        _kept[(int)side] = data[consumed..];
        _keptSinceNs[(int)side] = consumed < kept.Length ? firstByteNs : timestampNs;
    }

    public void Gap(StreamSide side, long bytes, long timestampNs)
    {
        _kept[(int)side] = [];
        Parser.OnGap(side, bytes, timestampNs);
    }

    public bool Fin(StreamSide side, long timestampNs) => Parser.OnFin(side, timestampNs);

    public void Close(long timestampNs) => Parser.OnClose(timestampNs);

    /// <summary>One line per exchange, then the non-zero counters.</summary>
    public string Render()
    {
        var lines = Exchanges.Select(Render).ToList();
        lines.Add(RenderCounters(Metrics));
        return string.Join('\n', lines);
    }

    public static string Render(ParsedExchange e)
    {
        var details = (HttpDetails?)e.Details;
        return $"{e.Operation} {e.Resource}{(details?.Query is null ? "" : "?" + details.Query)} {details?.Version} host={details?.Host ?? "-"}"
            + $" status={e.Code} {e.Status} {e.Outcome} start={e.StartNs} duration={e.DurationNs} req={e.RequestBytes} resp={e.ResponseBytes}";
    }

    /// <summary>The HTTP counters that are not zero, in a fixed order.</summary>
    public static string RenderCounters(TestAgentMetrics metrics, params string[] more)
    {
        string[] counters =
        [
            "exchanges", "desyncs", "unmatched_responses", "unanswered_requests", "oversized_heads", "invalid_heads",
            "pipeline_overflow", "tunnels", .. more,
        ];
        return "counters:" + string.Concat(counters.Where(c => metrics.Value(c) != 0).Select(c => $" {c}={metrics.Value(c)}"));
    }
}
