using System.Text.Json;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>The 1.x sink against a real influxd 1.6.7.</summary>
public sealed class InfluxDbV1ServerTests(InfluxDbServer server) : IClassFixture<InfluxDbServer>
{
    private readonly TestAgentMetrics _metrics = new();
    private readonly string _database = "db_" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Creates_the_database_with_the_two_day_retention_policy_as_default()
    {
        using var sink = TestSinks.V1(server.Url, _database, _metrics);

        await sink.WriteAsync([TestSinks.Point("m", TestSinks.Now(), 1)], CancellationToken.None);

        var policies = await server.QueryAsync(_database, $"SHOW RETENTION POLICIES ON \"{_database}\"");
        var policy = Assert.Single(policies, p => p.Values["name"].GetString() == "kubebpf_2d");
        Assert.Equal("48h0m0s", policy.Values["duration"].GetString());
        Assert.True(policy.Values["default"].GetBoolean());
        Assert.Equal(1, await server.CountAsync(_database, "m", "seq"));
    }

    [Fact]
    public async Task Points_land_with_the_exact_schema_and_nanosecond_timestamps()
    {
        using var sink = TestSinks.V1(server.Url, _database, _metrics);
        var time = TestSinks.Now() + 123_456_789 % 1_000_000;
        var point = new MetricPoint(
            "http_red",
            [new Tag("workload", "api"), new Tag("method", "GET"), new Tag("empty", "")],
            [
                new Field("count", FieldValue.Integer(12)), new Field("p50", FieldValue.Float(0.25)), new Field("path", FieldValue.String("/users?id=1")),
                new Field("ok", FieldValue.Boolean(true)), new Field("bytes", FieldValue.UInteger(42)), new Field("nan", FieldValue.Float(double.NaN)),
            ],
            time);

        await sink.WriteAsync([point, new MetricPoint("http_red", [new Tag("workload", "api")], [new Field("count", FieldValue.Integer(1))], time + 1)], CancellationToken.None);

        var tagKeys = await server.QueryAsync(_database, "SHOW TAG KEYS FROM http_red");
        Assert.Equal(["method", "workload"], tagKeys.Select(r => r.Values["tagKey"].GetString()));
        var fieldKeys = (await server.QueryAsync(_database, "SHOW FIELD KEYS FROM http_red")).ToDictionary(r => r.Values["fieldKey"].GetString()!, r => r.Values["fieldType"].GetString());
        Assert.Equal(
            new Dictionary<string, string?> { ["bytes"] = "integer", ["count"] = "integer", ["ok"] = "boolean", ["p50"] = "float", ["path"] = "string" },
            fieldKeys);
        var rows = await server.QueryAsync(_database, "SELECT * FROM http_red");
        Assert.Equal([time, time + 1], rows.Select(r => r.Values["time"].GetInt64()));
        var first = rows[0].Values;
        Assert.Equal(12, first["count"].GetInt64());
        Assert.Equal(0.25, first["p50"].GetDouble());
        Assert.Equal("/users?id=1", first["path"].GetString());
        Assert.True(first["ok"].GetBoolean());
        Assert.Equal(42, first["bytes"].GetInt64());
        Assert.Equal(1, _metrics.Value("fields_skipped"));
    }

    [Fact]
    public async Task Escaped_names_and_strings_round_trip_through_the_server()
    {
        using var sink = TestSinks.V1(server.Url, _database, _metrics);
        const string Measurement = "my meas,ure=x";
        const string TagKey = "k,e=y 1";
        const string TagValue = "v,a=l ue\\x\\,y";
        const string FieldKey = "f,i=e l\\d";
        const string Text = "say \"hi\" C:\\dir\\ a,b=c d\nline2\ttab";
        var point = new MetricPoint(Measurement, [new Tag(TagKey, TagValue)], [new Field(FieldKey, FieldValue.String(Text))], TestSinks.Now());

        await sink.WriteAsync([point], CancellationToken.None);

        Assert.Equal([Measurement], (await server.QueryAsync(_database, "SHOW MEASUREMENTS")).Select(r => r.Values["name"].GetString()));
        var tag = Assert.Single(await server.QueryAsync(_database, "SHOW TAG KEYS FROM /.*/"));
        Assert.Equal(TagKey, tag.Values["tagKey"].GetString());
        var field = Assert.Single(await server.QueryAsync(_database, "SHOW FIELD KEYS FROM /.*/"));
        Assert.Equal(FieldKey, field.Values["fieldKey"].GetString());
        var row = Assert.Single(await server.QueryAsync(_database, "SELECT * FROM /.*/"));
        Assert.Equal(TagValue, row.Values[TagKey].GetString());
        Assert.Equal(Text, row.Values[FieldKey].GetString());
    }

    [Fact]
    public async Task Recreates_the_database_when_the_server_says_it_is_missing()
    {
        using var sink = TestSinks.V1(server.Url, _database, _metrics);
        var time = TestSinks.Now();
        await sink.WriteAsync([TestSinks.Point("m", time, 1)], CancellationToken.None);
        await server.ExecuteAsync($"DROP DATABASE \"{_database}\"");

        await sink.WriteAsync([TestSinks.Point("m", time + 1, 2)], CancellationToken.None);

        Assert.Equal(1, await server.CountAsync(_database, "m", "seq"));
        Assert.Contains(await server.QueryAsync(_database, $"SHOW RETENTION POLICIES ON \"{_database}\""), p => p.Values["name"].GetString() == "kubebpf_2d");
    }

    [Fact]
    public async Task A_field_type_conflict_is_counted_as_rejected_and_the_rest_of_the_batch_lands()
    {
        using var sink = TestSinks.V1(server.Url, _database, _metrics);
        var time = TestSinks.Now();
        await sink.WriteAsync([TestSinks.Point("m", time, 1)], CancellationToken.None);
        var conflicting = new MetricPoint("m", [new Tag("workload", "api")], [new Field("seq", FieldValue.String("text"))], time + 1);

        await sink.WriteAsync([conflicting, TestSinks.Point("other", time + 2, 3)], CancellationToken.None);

        Assert.Equal(1, _metrics.Value("points_rejected"));
        Assert.Equal(1, await server.CountAsync(_database, "m", "seq"));
        Assert.Equal(1, await server.CountAsync(_database, "other", "seq"));
    }

    [Fact]
    public async Task An_unreachable_server_is_a_retryable_failure()
    {
        using var sink = TestSinks.V1("http://127.0.0.1:1", _database, _metrics);

        var error = await Assert.ThrowsAsync<SinkWriteException>(() => sink.WriteAsync([TestSinks.Point("m", TestSinks.Now(), 1)], CancellationToken.None).AsTask());

        Assert.Contains("unreachable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Writes_gzip_bodies_the_server_accepts()
    {
        using var sink = TestSinks.V1(server.Url, _database, _metrics, configure: o => o.GzipThresholdBytes = 0);
        var time = TestSinks.Now();

        await sink.WriteAsync([.. Enumerable.Range(0, 1000).Select(i => TestSinks.Point("m", time + i, i))], CancellationToken.None);

        Assert.Equal(1000, await server.CountAsync(_database, "m", "seq"));
        Assert.Equal(JsonValueKind.Number, (await server.QueryAsync(_database, "SELECT LAST(seq) FROM m"))[0].Values["last"].ValueKind);
    }

    [Fact]
    public async Task A_5xx_for_every_point_while_the_server_is_up_is_retried_whole_not_dropped_as_poison()
    {
        // influxd answers 500 "retention policy not found" to every write into a missing policy, while /ping answers 204.
        await server.ExecuteAsync($"CREATE DATABASE \"{_database}\"");
        using var sink = TestSinks.V1(server.Url, _database, _metrics, configure: o =>
        {
            o.CreateDatabase = false;
            o.RetentionPolicy = "missing";
        });

        var error = await Assert.ThrowsAsync<SinkWriteException>(() => sink.WriteAsync([.. Enumerable.Range(0, 8).Select(i => TestSinks.Point("m", TestSinks.Now() + i, i))], CancellationToken.None).AsTask());

        Assert.Contains("retention policy not found", error.Message, StringComparison.Ordinal);
        Assert.True(_metrics.Value("batches_split") > 0, "a 500 while /ping answers 204 is searched for poison by halving");
        Assert.Equal(0, _metrics.Value("points_poisoned"));
    }
}
