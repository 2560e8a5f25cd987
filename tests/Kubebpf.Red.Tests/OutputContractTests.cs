using Kubebpf.Red.CallLog;
using Kubebpf.Red.Contract;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Events;
using Kubebpf.Testing;
using Microsoft.Extensions.Options;
using static Kubebpf.Red.Tests.Exchanges;

namespace Kubebpf.Red.Tests;

public class OutputContractTests
{
    private static readonly HttpExchange[] Varied =
    [
        Make("/users/1", peer: Payments, query: "q=1", requestBytes: 10),
        Make("/users/2", status: 503, direction: TrafficDirection.Out, method: "PURGE", workload: Payments),
        Make("/", status: 0, unknownWorkload: true, host: null, requestBytes: -1, responseBytes: -1),
        Make("*", method: "OPTIONS", status: 404),
    ];

    [Fact]
    public void Every_emitted_point_matches_its_declared_measurement_and_every_declared_field_is_emitted()
    {
        var output = new CollectingPointWriter();
        var options = Options.Create(new RedOptions { CallLog = { RecordQueryStrings = true } });
        new CallLogWriter(output, options).OnEvents(Varied);
        var aggregator = Aggregator();
        aggregator.OnEvents(Varied);
        aggregator.Flush(WindowStartUnixNs + TenSecondsNs, output);

        foreach (var contract in RedOutputContract.Measurements)
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
    public void The_check_names_every_violation()
    {
        var point = new MetricPoint(
            "http_red",
            [new Tag("pod", ""), new Tag("url", "/x")],
            [new Field("requests", FieldValue.Float(1)), new Field("bogus", FieldValue.Integer(1))],
            0);

        var violations = RedOutputContract.Red.Violations(point);

        Assert.Contains("tag 'pod' is empty (empty tags must be omitted)", violations);
        Assert.Contains("tag 'url' is not declared", violations);
        Assert.Contains("field 'requests' is Float, declared Integer", violations);
        Assert.Contains("field 'bogus' is not declared", violations);
        Assert.Contains("required field 'rate' is missing", violations);
        Assert.Contains("measurement 'http_red' is not 'http_requests'", RedOutputContract.CallLog.Violations(point));
    }

    [Fact]
    public void The_readme_documents_every_declared_measurement_tag_and_field()
    {
        var readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"));

        foreach (var contract in RedOutputContract.Measurements)
        {
            Assert.Contains($"`{contract.Name}`", readme, StringComparison.Ordinal);
            Assert.All(contract.Tags, tag => Assert.Contains($"`{tag.Key}`", readme, StringComparison.Ordinal));
            Assert.All(contract.Fields, field => Assert.Contains($"`{field.Key}`", readme, StringComparison.Ordinal));
        }
    }
}
