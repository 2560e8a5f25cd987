using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;

namespace Kubebpf.MySql.Tests;

/// <summary>Plays the capture's side of the <see cref="IStreamParser"/> contract for one MySQL connection.</summary>
internal sealed class ParserDriver : IExchangeOutput
{
    private long _now = 1_000_000;

    public ParserDriver(MySqlOptions? options = null)
    {
        Protocol = new MySqlProtocol(options ?? new MySqlOptions(), Metrics);
        Parser = Protocol.CreateParser(this);
    }

    public TestAgentMetrics Metrics { get; } = new();

    public MySqlProtocol Protocol { get; }

    public IStreamParser Parser { get; }

    public List<ParsedExchange> Exchanges { get; } = [];

    /// <summary>Nanoseconds the clock moves on between deliveries.</summary>
    public long Step { get; set; } = 1000;

    public void Emit(in ParsedExchange exchange) => Exchanges.Add(exchange);

    public ParserDriver Client(params byte[][] packets) => Send(StreamSide.Client, packets);

    public ParserDriver Server(params byte[][] packets) => Send(StreamSide.Server, packets);

    /// <summary>All <paramref name="packets"/> as one delivery (one segment).</summary>
    public ParserDriver Send(StreamSide side, params byte[][] packets)
    {
        byte[] data = [.. packets.SelectMany(p => p)];
        _now += Step;
        Assert.Equal(data.Length, Parser.OnData(new StreamChunk(side, _now, _now), data));
        return this;
    }

    public ParserDriver Gap(StreamSide side, long bytes)
    {
        _now += Step;
        Parser.OnGap(side, bytes, _now);
        return this;
    }

    /// <summary>Greeting, handshake response and OK: a connection in its command phase.</summary>
    public ParserDriver Connect(bool deprecateEof = true, string? database = "shop", uint extra = 0)
    {
        var capabilities = Packets.Basic | (deprecateEof ? Packets.DeprecateEof : 0) | extra;
        Server(Packets.Greeting(capabilities));
        Client(Packets.HandshakeResponse(capabilities, "app", database));
        return Server(Packets.Ok(2));
    }

    public List<string> Rendered() => Exchanges.Select(Render).ToList();

    public static string Render(ParsedExchange e)
    {
        var details = (MySqlDetails)e.Details!;
        return $"{details.Command} {e.Operation} {e.Resource} {e.Status}"
            + (e.Code >= 0 ? $" code={e.Code} state={details.SqlState}" : "")
            + (details.Rows >= 0 ? $" rows={details.Rows}" : "")
            + (details.AffectedRows >= 0 ? $" affected={details.AffectedRows}" : "")
            + (details.Database is null ? "" : $" db={details.Database}")
            + (details.Truncated ? " truncated" : "");
    }

    /// <summary>The counters that are not zero, in a fixed order.</summary>
    public string Counters()
    {
        string[] names =
        [
            "exchanges", "desyncs", "invalid_packets", "unmatched_responses", "unanswered_commands", "pipeline_overflow",
            "truncated_exchanges", "unknown_statements", "prepared_overflow", "commands_without_answer", "tls_connections",
            "compressed_connections", "row_gaps",
        ];
        return string.Join(' ', names.Where(n => Metrics.Value(n) != 0).Select(n => $"{n}={Metrics.Value(n)}"));
    }
}
