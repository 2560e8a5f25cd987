using System.Text;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// Canary secrets in every place a request can carry one (userinfo of an absolute-form target, the Host header, path
/// segments after a secret-naming one, <c>key=value</c> segments, a random-looking token, the query string, the
/// Authorization, Cookie and other headers, request and response bodies, Set-Cookie, SQL literals to a real MariaDB)
/// sent between two pods with the published agent watching both ends, its console call log on: not one may reach
/// InfluxDB (every point of every measurement) or the agent's standard output and error, with default settings.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class SecretRedactionTests(InfluxDbServer influx, ITestOutputHelper output)
{
    private const string Canary = "kbpfcanary";
    private const int MySqlPort = 3306;

    /// <summary>A random-looking token with no other canary mark: it must go as a whole.</summary>
    private const string Token = "q8Vb3xT0kLm2Zr7Yw1Pn4Hs6Jd9Fg5CeA1b2C3";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task No_canary_secret_reaches_InfluxDB_or_the_agent_output()
    {
        const string requestBody = "{\"card\":\"" + Canary + "-body\"}";
        const string responseBody = "{\"secret\":\"" + Canary + "-response-body\"}";
        var plan = ConformanceCorpus.Create(
            [
                Entry(0, $"GET http://{Canary}-user:{Canary}-pass@shop.example/ok HTTP/1.1\r\nHost: {Canary}-hostuser:pw@shop.example\r\n\r\n"),
                Entry(1, $"GET /reset/{Canary}-reset HTTP/1.1\r\nHost: server\r\n\r\n"),
                Entry(2, $"GET /api/key={Canary}-key/items HTTP/1.1\r\nHost: server\r\n\r\n"),
                Entry(3, $"GET /files/{Token} HTTP/1.1\r\nHost: server\r\n\r\n"),
                Entry(4, $"GET /search?q={Canary}-query&token={Canary}-qtoken HTTP/1.1\r\nHost: server\r\n\r\n"),
                Entry(5,
                    $"POST /orders HTTP/1.1\r\nHost: server\r\nAuthorization: Bearer {Canary}-auth\r\nCookie: sid={Canary}-cookie\r\n"
                    + $"X-Api-Key: {Canary}-header\r\nContent-Length: {requestBody.Length}\r\n\r\n{requestBody}",
                    $"HTTP/1.1 201 Created\r\nSet-Cookie: sid={Canary}-set-cookie\r\nContent-Length: {responseBody.Length}\r\n\r\n{responseBody}"),
                Entry(6, $"POST /upload HTTP/1.1\r\nHost: server\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{Canary}-chunk\r\n0\r\n\r\n"),
            ],
            [new CorpusConnection(false, [0, 1, 2, 3, 4, 5, 6])]);
        await using var scenario = AgentScenario.Create(influx);
        using var mariadb = PodMariaDb.Start(scenario.Pods, scenario.Server, MySqlPort);
        mariadb.Admin("CREATE DATABASE shop; CREATE TABLE shop.cards (id INT PRIMARY KEY, number VARCHAR(64));");
        var replay = CorpusReplay.StartServer(scenario, plan);
        var agent = await scenario.StartAgentAsync(new Dictionary<string, object>
        {
            ["MySql"] = new { },
            ["Console"] = new { ShowCallLog = true, ClearScreen = false },
        });

        replay.RunClient();
        var statements = $"INSERT INTO cards VALUES (1, '{Canary}-sql-insert');\nSELECT * FROM cards WHERE number = '{Canary}-sql-where';\n"
            + $"UPDATE cards SET number = '{Canary}-sql-update' WHERE id = 1;\nSELEC '{Canary}-sql-syntax-error';\n";
        var file = Path.Combine(scenario.WorkDirectory, "canary.sql");
        await File.WriteAllTextAsync(file, statements);
        NetworkPods.Exec(scenario.Client, $"mariadb --no-defaults -h {scenario.Server.IPv4} -P {MySqlPort} -u app --skip-ssl --force shop < {file} > /dev/null 2>&1", check: false);

        await scenario.WaitForCallLogAsync(2 * plan.Entries.Count, Timeout);
        var deadline = DateTime.UtcNow + Timeout;
        while (await scenario.CountAsync("mysql_requests", "duration_ns") < 2 * 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.True(await scenario.CountAsync("mysql_requests", "duration_ns") >= 2 * 4, "the 4 statements, as the client's out and the server's in, in the call log");
        Assert.Equal(0, await scenario.StopAgentAsync());

        // What is stored: the masks where the secrets were.
        var calls = await scenario.CallLogAsync();
        Assert.Equal(
            ["/api/key={redacted}/items", "/files/{redacted}", "/orders", "/reset/{redacted}", "/search", "/upload", "http://{redacted}@shop.example/ok"],
            calls.Select(c => c.Path).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains(await scenario.PointsAsync("http_requests"), p => p.TryGetValue("host", out var host) && host.GetString() == "{redacted}@shop.example");

        // Not one canary anywhere: every point of every measurement, and all the agent wrote.
        var stored = new StringBuilder();
        var points = 0;
        foreach (var measurement in (await influx.QueryAsync(scenario.Database, "SHOW MEASUREMENTS")).Select(r => r.Values["name"].GetString()!))
        {
            foreach (var row in await influx.QueryAsync(scenario.Database, $"SELECT * FROM \"{measurement}\" GROUP BY *"))
            {
                stored.AppendJoin(' ', row.Tags.Values).AppendJoin(' ', row.Values.Values.Select(v => v.ToString())).AppendLine();
                points++;
            }
        }

        var written = agent.StandardOutput + agent.StandardError;
        Assert.Contains("/reset/{redacted}", agent.StandardOutput, StringComparison.Ordinal); // the console call log ran
        var hits = new[] { Canary, Token }.Sum(c => Occurrences(stored.ToString(), c) + Occurrences(written, c));
        output.WriteLine($"canary hits: {hits} in {points} stored points and {written.Length} characters of agent output");
        Assert.Equal(0, hits);
    }

    private static int Occurrences(string text, string canary) =>
        (text.Length - text.Replace(canary, "", StringComparison.Ordinal).Length) / canary.Length;

    private static CorpusEntry Entry(int id, string request, string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") =>
        new(id, "", Encoding.Latin1.GetBytes(request), Encoding.Latin1.GetBytes(response), false);
}
