using System.Net;
using System.Text;
using Kubebpf.Capture.Capture;
using Kubebpf.Capture.Flows;
using Kubebpf.Dns;
using Kubebpf.Http;
using Kubebpf.Http.Parsing;
using Kubebpf.Http.Privacy;
using Kubebpf.Http.Streams;
using Kubebpf.MySql;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;
using Microsoft.Extensions.DependencyInjection;
using RedisParser;

namespace Kubebpf.Fuzz;

/// <summary>
/// One fuzz target per parser: each takes any byte string and must return without an exception, within the fuzzer's
/// time limit, whatever the bytes. Parsers come from their plugins' own registrations, configured as shipped.
/// </summary>
internal static class FuzzTargets
{
    private const int MaxHeadBytes = 16 * 1024;

    // Each plugin's container is built once per fuzzing process, as the agent builds it once; each input gets new
    // parsers (and the capture target a new flow tracker), as each connection does. Built lazily: instrumented code
    // must not run before SharpFuzz has mapped the fuzzer's coverage memory.
    private static readonly Lazy<ServiceProvider> Http = new(() => PluginHarness.Configure(new HttpPlugin(), "Http", []));

    // The DNS plugin would otherwise read the resolv.conf of the host's processes.
    private static readonly Lazy<ServiceProvider> Dns = new(() => PluginHarness.Configure(new DnsPlugin(), "Dns", new() { ["ReadPodResolvConf"] = "false" }));

    private static readonly Lazy<ServiceProvider> MySql = new(() => PluginHarness.Configure(new MySqlPlugin(), "MySql", []));

    private static readonly Lazy<TargetRedactor> Redactor = new(() => new(new HttpOptions()));

    private static readonly Lazy<ServiceProvider> Redis = new(() => PluginHarness.Configure(new RedisPlugin(), "Redis", []));

    /// <summary>Every target by name, in the order the CI run fuzzes them.</summary>
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>
    {
        ["http-head"] = HttpHead,
        ["http-chunked"] = HttpChunked,
        ["http-stream"] = data => new StreamParserDriver(Http.Value.GetRequiredService<IStreamProtocol>()).Run(data),
        ["dns-udp"] = data => new DatagramParserDriver(Dns.Value.GetRequiredService<IDatagramProtocol>()).Run(data),
        ["dns-tcp"] = data => new StreamParserDriver(Dns.Value.GetRequiredService<IStreamProtocol>()).Run(data),
        ["mysql"] = data => new StreamParserDriver(MySql.Value.GetRequiredService<IStreamProtocol>()).Run(data),
        ["redis"] = data => new StreamParserDriver(Redis.Value.GetRequiredService<IStreamProtocol>()).Run(data),
        ["capture"] = Capture,
    };

    /// <summary>Request and response heads, the sniffer, and the redaction of the request target.</summary>
    private static void HttpHead(byte[] data)
    {
        var request = HttpHeadParser.ParseRequest(data, MaxHeadBytes);
        if (request.Status == HeadParseStatus.Complete && request.Length > data.Length)
        {
            throw new InvalidOperationException($"a head of {request.Length} bytes in {data.Length}");
        }

        if (request.HasStartLine)
        {
            var target = Encoding.UTF8.GetString(request.Target);
            if (Redactor.Value.Redact(target).Length > (target.Length * 2) + TargetRedactor.Mask.Length)
            {
                throw new InvalidOperationException("redaction grew the target beyond its masks");
            }
        }

        var response = HttpHeadParser.ParseResponse(data, MaxHeadBytes);
        if (response.Status == HeadParseStatus.Complete && response.Length > data.Length)
        {
            throw new InvalidOperationException($"a head of {response.Length} bytes in {data.Length}");
        }

        HttpSniffer.Sniff(data, MaxHeadBytes);
    }

    /// <summary>A chunked body fed in pieces whose sizes the first byte chooses, gaps included.</summary>
    private static void HttpChunked(byte[] data)
    {
        if (data.Length == 0)
        {
            return;
        }

        var reader = default(ChunkedBodyReader);
        var piece = Math.Max(1, (int)data[0]);
        var body = data.AsSpan(1);
        while (!body.IsEmpty)
        {
            var chunk = body[..Math.Min(piece, body.Length)];
            var offset = 0;
            var status = reader.Read(chunk, ref offset);
            if (offset < 0 || offset > chunk.Length)
            {
                throw new InvalidOperationException($"the reader moved to {offset} in {chunk.Length} bytes");
            }

            if (status is ChunkedBodyStatus.Done or ChunkedBodyStatus.Lost)
            {
                reader.Reset();
            }
            else if (chunk.Length == 1 && chunk[0] == 0xff && !reader.Skip(piece))
            {
                reader.Reset();
            }

            body = body[Math.Max(offset, 1)..];
        }
    }

    /// <summary>
    /// TCP and UDP records of two conversations (HTTP on port 80, DNS on 53, MySQL on 3306) through the capture's
    /// reassembly and classification into the parsers: each step of the script is a segment whose sequence number the
    /// script moves (retransmissions, overlaps, holes, out of order), with SYN, FIN or RST flags.
    /// </summary>
    private static void Capture(byte[] data)
    {
        ServiceProvider[] plugins = [Http.Value, Dns.Value, MySql.Value];
        var streams = plugins.SelectMany(p => p.GetServices<IStreamProtocol>()).Select(p => new ProtocolRegistration<IStreamProtocol>(p, "fuzz", Rethrow)).ToList();
        var datagrams = plugins.SelectMany(p => p.GetServices<IDatagramProtocol>()).Select(p => new ProtocolRegistration<IDatagramProtocol>(p, "fuzz", Rethrow)).ToList();
        var tracker = new FlowTracker(new FlowTrackerOptions(), new TestAgentMetrics(), streams, datagrams, resolver: null, _ => { });
        var client = new IPEndPoint(IPAddress.Parse("10.9.0.1"), 40000);
        var servers = new[] { new IPEndPoint(IPAddress.Parse("10.9.0.2"), 80), new IPEndPoint(IPAddress.Parse("10.9.0.2"), 3306) };
        var dns = new IPEndPoint(IPAddress.Parse("10.9.0.3"), 53);
        uint[] nextSeq = [1000, 5000, 9000, 13000];
        var now = 1_000_000L;
        var offset = 0;
        while (offset + 2 < data.Length)
        {
            // op: bit 0 side, bit 1 which server, bit 2 UDP, bits 3-5 SYN/FIN/RST; then a signed sequence move and a length.
            var op = data[offset];
            var move = (sbyte)data[offset + 1];
            var length = Math.Min(data[offset + 2], data.Length - offset - 3);
            var payload = data.AsSpan(offset + 3, length);
            offset += 3 + length;
            now += 1_000_000;
            var fromClient = (op & 1) == 0;
            if ((op & 4) != 0)
            {
                var (source, destination) = fromClient ? (client, dns) : (dns, client);
                tracker.OnPacket(PacketFactory.Udp(source, destination, length, timestampNs: now), payload, fromClient, "fuzz0");
            }
            else
            {
                var server = servers[(op >> 1) & 1];
                var stream = (((op >> 1) & 1) * 2) + (fromClient ? 0 : 1);
                var seq = (uint)(nextSeq[stream] + move);
                var flags = (byte)(PacketHeader.Ack | ((op & 8) != 0 ? PacketHeader.Syn : 0) | ((op & 16) != 0 ? PacketHeader.Fin : 0) | ((op & 32) != 0 ? PacketHeader.Rst : 0));
                var (source, destination) = fromClient ? (client, server) : (server, client);
                tracker.OnPacket(PacketFactory.Tcp(source, destination, seq, length, flags: flags, timestampNs: now), payload, fromClient, "fuzz0");
                nextSeq[stream] = seq + (uint)length + ((flags & PacketHeader.Syn) != 0 ? 1u : 0u);
            }

            if ((op & 64) != 0)
            {
                tracker.OnBatchEnd();
            }

            if ((op & 128) != 0)
            {
                tracker.Tick(now + 600_000_000_000);
            }
        }

        tracker.OnBatchEnd();
        tracker.CloseAll(now);
    }

    private static void Rethrow(Exception error) => throw new InvalidOperationException("a parser threw inside the capture", error);
}
