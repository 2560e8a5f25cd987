using BenchmarkDotNet.Attributes;
using Kubebpf.Dns;
using Kubebpf.Dns.Parsing;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Benchmarks;

/// <summary>
/// The DNS parser per message: reading a query, reading an answer with its records, and a whole exchange through a
/// UDP flow's parser (query, answer, pairing, learned names, the exchange handed over). Each operation is one message
/// (one exchange for the last); the Allocated column is per message.
/// </summary>
[MemoryDiagnoser]
public class DnsParserBenchmarks
{
    private const int Repeat = 1000;

    // A Kubernetes-style name, and an answer naming it by a pointer with two A records, as CoreDNS sends them.
    private static readonly byte[] Query = Message(0x2a, 0x0100, answers: 0);
    private static readonly byte[] Answer = Message(0x2a, 0x8180, answers: 2);

    private readonly char[] _name = new char[DnsReader.MaxNameChars];
    private readonly IDatagramParser _parser = new DnsDatagramProtocol(
        new DnsState(new DnsOptions { ReadPodResolvConf = false }, new RedBenchmarks.NullAgentMetrics(), null)).CreateParser(new NullOutput());

    private long _now = 1_000_000_000;

    [Benchmark(OperationsPerInvoke = Repeat)]
    public int ReadQuery()
    {
        var total = 0;
        for (var i = 0; i < Repeat; i++)
        {
            DnsReader.Read(Query, _name, out _, out var question);
            total += question.NameLength;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Repeat)]
    public int ReadAnswerAndRecords()
    {
        var total = 0;
        for (var i = 0; i < Repeat; i++)
        {
            DnsReader.Read(Answer, _name, out var header, out var question);
            var records = new DnsAnswerReader(Answer, header, question);
            while (records.TryNext(out _, out var ttl, out _))
            {
                total += (int)ttl;
            }
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Repeat)]
    public void QueryAndAnswerThroughAFlow()
    {
        for (var i = 0; i < Repeat; i++)
        {
            _parser.OnDatagram(new DatagramInfo(StreamSide.Client, _now, Query.Length), Query);
            _parser.OnDatagram(new DatagramInfo(StreamSide.Server, _now += 200_000, Answer.Length), Answer);
        }
    }

    private static byte[] Message(ushort id, ushort flags, int answers)
    {
        List<byte> bytes = [(byte)(id >> 8), (byte)id, (byte)(flags >> 8), (byte)flags, 0, 1, 0, (byte)answers, 0, 0, 0, 0];
        foreach (var label in "api.shop.svc.cluster.local".Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(label.Select(c => (byte)c));
        }

        bytes.AddRange([0, 0, 1, 0, 1]);
        for (var i = 0; i < answers; i++)
        {
            bytes.AddRange([0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 96, 0, (byte)(10 + i)]);
        }

        return [.. bytes];
    }

    private sealed class NullOutput : IExchangeOutput
    {
        public FlowIdentity? Flow { get; } = new(
            NetworkEndpoint.From(System.Net.IPAddress.Parse("10.1.0.5"), 40000), NetworkEndpoint.From(System.Net.IPAddress.Parse("10.96.0.10"), 53), "veth0", TrafficDirection.Out);

        public void Emit(in ParsedExchange exchange)
        {
        }
    }
}
