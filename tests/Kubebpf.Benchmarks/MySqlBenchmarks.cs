using System.Text;
using BenchmarkDotNet.Attributes;
using Kubebpf.MySql;
using Kubebpf.MySql.Fingerprints;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Benchmarks;

/// <summary>
/// The MySQL plugin's hot paths, per statement: fingerprinting one statement, and parsing a whole exchange (a
/// COM_QUERY and its 3-row result set, or a 1,000-row one) through the stream parser, exchange emitted.
/// </summary>
[MemoryDiagnoser]
public class MySqlBenchmarks : IExchangeOutput
{
    private static readonly byte[] Statement = Encoding.UTF8.GetBytes(
        "SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id "
        + "WHERE o.status = 'shipped' AND o.created_at > '2026-11-01 00:00:00' AND c.id IN (17, 42, 99) LIMIT 50");

    private readonly StatementFingerprinter _fingerprinter = new(maxLength: 1024, maxInterned: 1000);
    private byte[] _query = [];
    private byte[] _smallResult = [];
    private byte[] _largeResult = [];
    private IStreamParser _parser = null!;
    private long _now;
    private long _emitted;

    [GlobalSetup]
    public void Setup()
    {
        _query = Packet(0, [3, .. Statement]);
        _smallResult = ResultSet(3);
        _largeResult = ResultSet(1000);
        var protocol = new MySqlProtocol(new MySqlOptions(), new RedBenchmarks.NullAgentMetrics());
        _parser = protocol.CreateParser(this);
        // A connection older than the capture: the first command puts the parser in its command phase.
        Feed(_smallResult);
    }

    public void Emit(in ParsedExchange exchange) => _emitted++;

    [Benchmark]
    public int Fingerprint() => _fingerprinter.Compute(Statement, partial: false).Text.Length;

    [Benchmark]
    public long QueryWithThreeRows() => Feed(_smallResult);

    [Benchmark]
    public long QueryWithThousandRows() => Feed(_largeResult);

    private long Feed(byte[] result)
    {
        _now += 1000;
        _parser.OnData(new StreamChunk(StreamSide.Client, _now, _now), _query);
        _parser.OnData(new StreamChunk(StreamSide.Server, _now + 500, _now + 500), result);
        return _emitted;
    }

    private static byte[] ResultSet(int rows)
    {
        var output = new List<byte>();
        byte sequence = 1;
        output.AddRange(Packet(sequence++, [3]));
        foreach (var column in new[] { "id", "total", "name" })
        {
            output.AddRange(Packet(sequence++, [3, .. "def"u8, 4, .. "shop"u8, 1, (byte)'o', 1, (byte)'o', (byte)column.Length, .. Encoding.ASCII.GetBytes(column),
                (byte)column.Length, .. Encoding.ASCII.GetBytes(column), 0x0C, 45, 0, 11, 0, 0, 0, 3, 0, 0, 0, 0]));
        }

        for (var i = 0; i < rows; i++)
        {
            output.AddRange(Packet(sequence++, [5, .. "12345"u8, 5, .. "99.50"u8, 12, .. "Jane Example"u8]));
        }

        output.AddRange(Packet(sequence, [0xFE, 0, 0, 2, 0, 0, 0]));
        return [.. output];
    }

    private static byte[] Packet(byte sequence, byte[] payload) =>
        [(byte)payload.Length, (byte)(payload.Length >> 8), (byte)(payload.Length >> 16), sequence, .. payload];
}
