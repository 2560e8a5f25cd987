using System.Text;
using BenchmarkDotNet.Attributes;
using Kubebpf.Http.Parsing;

namespace Kubebpf.Benchmarks;

/// <summary>
/// Parser throughput on typical heads. Each operation parses the head <see cref="Repeat"/> times; the MB/s column
/// divides the bytes parsed by the mean time.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class HeadParserBenchmarks
{
    public const int Repeat = 1000;

    // ~300 bytes, what a service mesh client or a browser-less API client sends.
    public static readonly byte[] Request = Encoding.ASCII.GetBytes(
        "GET /api/v1/orders/12345/items?expand=product&limit=50 HTTP/1.1\r\n"
        + "Host: orders.shop.svc.cluster.local:8080\r\n"
        + "User-Agent: Go-http-client/1.1\r\n"
        + "Accept: application/json\r\n"
        + "Accept-Encoding: gzip\r\n"
        + "Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
        + "Connection: keep-alive\r\n"
        + "\r\n");

    public static readonly byte[] Response = Encoding.ASCII.GetBytes(
        "HTTP/1.1 200 OK\r\n"
        + "Content-Type: application/json; charset=utf-8\r\n"
        + "Content-Length: 1432\r\n"
        + "Date: Wed, 25 Nov 2026 19:12:39 GMT\r\n"
        + "Server: Kestrel\r\n"
        + "Cache-Control: no-store\r\n"
        + "X-Request-Id: 7d9f3c1e-2b4a-4e8f-9c6d-1a2b3c4d5e6f\r\n"
        + "\r\n");

    [Benchmark(OperationsPerInvoke = Repeat)]
    public int ParseRequest()
    {
        var total = 0;
        for (var i = 0; i < Repeat; i++)
        {
            total += HttpHeadParser.ParseRequest(Request, HttpHeadParser.DefaultMaxHeadBytes).Length;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Repeat)]
    public int ParseResponse()
    {
        var total = 0;
        for (var i = 0; i < Repeat; i++)
        {
            total += HttpHeadParser.ParseResponse(Response, HttpHeadParser.DefaultMaxHeadBytes).Length;
        }

        return total;
    }
}
