using Kubebpf.Sdk.Metrics;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>Builds sinks and points for the tests.</summary>
internal static class TestSinks
{
    public const string Instance = "InfluxDb";

    public static InfluxDbV1Sink V1(
        string url, string database, TestAgentMetrics metrics, HttpMessageHandler? handler = null, Action<InfluxDbSinkOptions>? configure = null, ILogger? logger = null)
    {
        var options = new InfluxDbSinkOptions { Url = url, Database = database };
        configure?.Invoke(options);
        InfluxDbSinkOptions.ApplyDefaults(options);
        return new InfluxDbV1Sink(options, Instance, metrics, logger ?? NullLogger.Instance, TimeProvider.System, handler ?? new HttpClientHandler());
    }

    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

    public static MetricPoint Point(string measurement, long timestamp, long value) =>
        new(measurement, [new Tag("workload", "api")], [new Field("seq", FieldValue.Integer(value))], timestamp);
}
