using Kubebpf.Red.CallLog;
using Kubebpf.Red.Contract;
using Kubebpf.Sdk.CallLog;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Testing;
using static Kubebpf.Red.Tests.Exchanges;

namespace Kubebpf.Red.Tests;

public class OutputContractTests
{
    private static readonly Exchange[] Varied =
    [
        Make("/users/1", peer: Payments, query: "q=1", requestBytes: 10),
        Make("/users/2", status: 503, direction: TrafficDirection.Out, method: "PURGE", workload: Payments),
        Make("/", status: 0, unknownWorkload: true, host: null, requestBytes: -1, responseBytes: -1),
        Make("*", method: "OPTIONS", status: 404),
        MakeRedis("GET", "user:1"),
        MakeRedis("SET", "user:2", ExchangeOutcome.Timeout, workload: Payments) with { Code = 5, RequestBytes = 3, ResponseBytes = 0 },
        MakeRedis("PING", "") with { Peer = Cart, Status = "" },
        Any(LookupProtocol, "A", "web.example", 0, "NOERROR", ExchangeOutcome.Success) with { RequestBytes = 29, ResponseBytes = 45 },
        Any(LookupProtocol, "A", "nx.example", 3, "NXDOMAIN", ExchangeOutcome.ClientError) with { Peer = Payments },
    ];

    public static TheoryData<string> Protocols => ["http", "redis", "lookup"];

    [Theory]
    [MemberData(nameof(Protocols))]
    public void Every_emitted_point_matches_its_protocols_contract_and_every_declared_field_is_emitted(string name)
    {
        var protocol = name switch { "http" => HttpProtocol, "redis" => RedisProtocol, _ => LookupProtocol };
        var output = new CollectingPointWriter();
        var callLog = new CallLogWriter(
            output, new TestAgentMetrics(), new CallLogSamplingOptions(), new FixedTimeProvider(WindowStartUnixNs), new FixedPeerNames("partner.example", Client, Server), random: null);
        callLog.OnEvents(Varied);
        callLog.Flush(WindowStartUnixNs + TenSecondsNs, output); // the sampled ones

        var aggregator = Aggregator();
        aggregator.OnEvents(Varied);
        aggregator.Flush(WindowStartUnixNs + TenSecondsNs, output);

        foreach (var contract in RedOutputContract.For(protocol).All)
        {
            var points = output.Measurement(contract.Name);
            Assert.NotEmpty(points);
            foreach (var point in points)
            {
                Assert.Empty(contract.Violations(point));
            }

            var emittedFields = points.SelectMany(p => p.Fields).Select(f => f.Key).ToHashSet();
            Assert.All(contract.Fields, field => Assert.Contains(field.Key, emittedFields));
        }
    }

    [Fact]
    public void The_contract_uses_the_descriptors_names_and_its_detail_fields()
    {
        var http = RedOutputContract.For(HttpProtocol);
        var redis = RedOutputContract.For(RedisProtocol);

        Assert.Equal(("http_requests", "http_red"), (http.CallLog.Name, http.Red.Name));
        Assert.Equal(("redis_requests", "redis_red"), (redis.CallLog.Name, redis.Red.Name));
        Assert.Equal(
            ["path", "status", "duration_ns", "weight", "request_bytes", "response_bytes", "client", "server", "peer_ip", "peer_name", "host", "query", "version"],
            http.CallLog.Fields.Select(f => f.Key));
        Assert.Contains(http.Red.Tags, t => t.Key == "route");
        Assert.Contains(http.Red.Fields, f => f.Key == "errors_5xx");
        Assert.Equal("db", redis.CallLog.Fields[^1].Key);
        Assert.Contains(redis.Red.Tags, t => t.Key == "resource");
        Assert.DoesNotContain(http.Red.Tags, t => t.Key == "status_class");
        Assert.DoesNotContain(redis.Red.Tags, t => t.Key == "status");
        Assert.Equal("rcode", RedOutputContract.For(LookupProtocol).Red.Tags[^1].Key);
    }

    [Fact]
    public void The_pattern_listed_by_the_plugin_names_no_protocol()
    {
        Assert.Equal(["<protocol>_requests", "<protocol>_red"], RedOutputContract.Pattern.All.Select(c => c.Name));
        Assert.Contains(RedOutputContract.Pattern.Red.Tags, t => t.Key == "status");
    }

    [Fact]
    public void The_check_names_every_violation()
    {
        var point = new MetricPoint(
            "http_red",
            [new Tag("pod", ""), new Tag("url", "/x")],
            [new Field("requests", FieldValue.Float(1)), new Field("bogus", FieldValue.Integer(1))],
            0);
        var http = RedOutputContract.For(HttpProtocol);

        var violations = http.Red.Violations(point);

        Assert.Contains("tag 'pod' is empty (empty tags must be omitted)", violations);
        Assert.Contains("tag 'url' is not declared", violations);
        Assert.Contains("field 'requests' is Float, declared Integer", violations);
        Assert.Contains("field 'bogus' is not declared", violations);
        Assert.Contains("required field 'rate' is missing", violations);
        Assert.Contains("measurement 'http_red' is not 'http_requests'", http.CallLog.Violations(point));
    }

    [Fact]
    public void The_readme_documents_every_measurement_tag_and_field_of_http()
    {
        var readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"));

        foreach (var contract in RedOutputContract.For(HttpProtocol).All)
        {
            Assert.Contains($"`{contract.Name}`", readme, StringComparison.Ordinal);
            Assert.All(contract.Tags, tag => Assert.Contains($"`{tag.Key}`", readme, StringComparison.Ordinal));
            Assert.All(contract.Fields, field => Assert.Contains($"`{field.Key}`", readme, StringComparison.Ordinal));
        }
    }
}
