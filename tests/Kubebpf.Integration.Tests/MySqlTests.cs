using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// A real MariaDB in the server pod, real clients in the client pod (the <c>mariadb</c> CLI, Perl's DBD::MariaDB with
/// server-side prepared statements, PyMySQL, a raw-socket client that pipelines), the published agent with the MySql
/// plugin on both veths: every command is checked against the server's general query log, as the client's
/// <c>out</c> and the server's <c>in</c>, and no literal of the statements may reach InfluxDB or the agent's log.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed partial class MySqlTests(InfluxDbServer influx, PrometheusServer prometheus, ITestOutputHelper output) : IClassFixture<PrometheusServer>
{
    private const int Port = 3306;

    /// <summary>In every literal of the test statements: not one may be stored or logged.</summary>
    private const string Secret = "kbpf-secret";

    private const int Selects = 100;
    private const int Executions = 50;
    private const int BigRows = 100_000;
    private const int TlsQueries = 20;

    /// <summary>The general log's commands that are exchanges (the others get no answer, or are not commands).</summary>
    private static readonly HashSet<string> AnsweredCommands = ["Query", "Prepare", "Execute", "Init DB", "Ping", "Reset stmt", "Field List"];

    [Fact]
    public async Task Every_command_is_counted_exactly_against_the_general_log_and_no_literal_is_stored()
    {
        await using var scenario = AgentScenario.Create(influx);
        using var mariadb = PodMariaDb.Start(scenario.Pods, scenario.Server, Port);
        mariadb.Admin($"""
            CREATE DATABASE shop;
            USE shop;
            CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64));
            INSERT INTO t SELECT seq, CONCAT('row', seq) FROM seq_1_to_{Selects};
            CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(16));
            INSERT INTO big SELECT seq, 'abcdefgh' FROM seq_1_to_{BigRows};
            CREATE TABLE blobs (id INT, b LONGTEXT);
            DELIMITER //
            CREATE PROCEDURE p() BEGIN SELECT 1; SELECT id FROM t ORDER BY id LIMIT 3; END //
            DELIMITER ;
            """);
        var before = mariadb.ReadGeneralLog().Count;
        var agent = await scenario.StartAgentAsync(new Dictionary<string, object>
        {
            ["MySql"] = new { },
            ["Prometheus"] = new { ListenAddress = "", RemoteWrite = new { Url = prometheus.RemoteWriteUrl, SendInterval = "00:00:01" } },
            ["Red"] = AgentScenario.RedLoggingEveryCall, // statements in a burst, each checked against the general log
        });

        // One CLI connection: literals that differ, writes, one failure per error class, a slow query, two result sets.
        var statements = new StringBuilder();
        for (var i = 1; i <= Selects; i++)
        {
            statements.Append(CultureInfo.InvariantCulture, $"SELECT * FROM t WHERE id = {i} AND v <> '{Secret}-{i}';\n");
        }

        for (var i = 1; i <= 3; i++)
        {
            statements.Append(CultureInfo.InvariantCulture, $"INSERT INTO t VALUES ({1000 + i}, '{Secret}-ins{i}');\n");
        }

        statements.Append(CultureInfo.InvariantCulture, $"UPDATE t SET v = '{Secret}-upd' WHERE id = 1001;\nUPDATE t SET v = '{Secret}-upd' WHERE id > 1001;\n");
        statements.Append("DELETE FROM t WHERE id = 1003;\n");
        statements.Append(string.Concat(Enumerable.Repeat("SELECT * FROM missing_table;\n", 10)));
        statements.Append(string.Concat(Enumerable.Repeat($"SELEC '{Secret}-syntax';\n", 5)));
        statements.Append(string.Concat(Enumerable.Repeat($"INSERT INTO t VALUES (5, '{Secret}-dup');\n", 3)));
        statements.Append("SELECT SLEEP(0.2);\nCALL p();\n");
        Cli(scenario, statements.ToString(), "--force");

        // A 100,000-row result, a 20 MB statement, server-side prepared statements, a multi-statement query, TLS, pipelining.
        Cli(scenario, "SELECT * FROM big;\n");
        var blob = Path.Combine(scenario.WorkDirectory, "blob.sql");
        await File.WriteAllTextAsync(blob, $"INSERT INTO blobs VALUES (1, '{Secret}-{new string('b', 20 * 1024 * 1024)}');\n");
        NetworkPods.Exec(scenario.Client, $"mariadb --no-defaults -h {scenario.Server.IPv4} -P {Port} -u app --skip-ssl --max-allowed-packet=64M shop < {blob}");
        NetworkPods.Exec(scenario.Client, $"perl -e '{PreparedClient}' {scenario.Server.IPv4} {Port} {Executions}");
        PodPython.Run(scenario.Client, MultiStatementClient, scenario.Server.IPv4, Port.ToString(CultureInfo.InvariantCulture));
        var tls = NetworkPods.Exec(scenario.Client,
            $"mariadb --no-defaults -h {scenario.Server.IPv4} -P {Port} -u app --ssl shop -e \"SHOW STATUS LIKE 'Ssl_cipher'; "
            + string.Concat(Enumerable.Range(1, TlsQueries - 1).Select(i => $"SELECT '{Secret}-tls{i}'; ")) + "\"");
        Assert.Matches("Ssl_cipher\t[A-Z0-9_-]+", tls.Output);
        // Not MySQL on 3306: nginx in the client pod, called from the server pod, is HTTP to the capture, nothing to MySQL.
        using (PodNginx.Start(scenario.Pods, scenario.Client, "location = /ok { return 200 \"ok\"; }", Port))
        {
            NetworkPods.Exec(scenario.Server, $"for i in 1 2 3 4 5; do curl -sf -o /dev/null http://{scenario.Client.IPv4}:{Port}/ok; done");
        }

        Assert.Equal("ok\nrows\nerr\n", PodPython.Run(scenario.Client, PipeliningClient, scenario.Server.IPv4, Port.ToString(CultureInfo.InvariantCulture),
            $"DO '{Secret}-pipe'", "SELECT 1", "SELECT * FROM missing_table"));

        // The server's truth: every answered command of the connections that did not switch to TLS.
        var log = mariadb.ReadGeneralLog(before);
        var tlsConnections = log.Where(e => e.Command == "Connect" && e.Argument.Contains("SSL/TLS", StringComparison.Ordinal)).Select(e => e.Connection).ToHashSet();
        Assert.Single(tlsConnections);
        Assert.Equal(TlsQueries, log.Count(e => tlsConnections.Contains(e.Connection) && e.Command == "Query"));
        var answered = log.Where(e => AnsweredCommands.Contains(e.Command) && !tlsConnections.Contains(e.Connection)).ToList();
        await WaitForAsync(scenario, 2 * answered.Count);
        Assert.Equal(0, await scenario.StopAgentAsync());

        var calls = await CallsAsync(scenario);
        var clientOut = calls.Where(c => c.Pod == scenario.ClientPod && c.Direction == "out").ToList();
        var serverIn = calls.Where(c => c.Pod == scenario.ServerPod && c.Direction == "in").ToList();
        Assert.Equal(2 * answered.Count, calls.Count);
        foreach (var side in new[] { clientOut, serverIn })
        {
            Assert.Equal(answered.Count, side.Count);
            Assert.Equal(
                answered.GroupBy(e => e.Command).Select(g => $"{g.Key}: {g.Count()}").Order(StringComparer.Ordinal),
                side.GroupBy(c => LogCommand(c.Command)).Select(g => $"{g.Key}: {g.Count()}").Order(StringComparer.Ordinal));
            Assert.Equal(Count(answered, "Query", SelectPattern()), Count(side, "SELECT * FROM t WHERE id = ? AND v <> ?", "SELECT", "ok"));
            Assert.Equal(Selects, Count(side, "SELECT * FROM t WHERE id = ? AND v <> ?", "SELECT", "ok"));
            Assert.Equal(3, Count(side, "INSERT INTO t VALUES (?)", "INSERT", "ok"));
            Assert.Equal(2, Count(side, "UPDATE t SET v = ? WHERE id = ?", "UPDATE", "ok") + Count(side, "UPDATE t SET v = ? WHERE id > ?", "UPDATE", "ok"));
            Assert.Equal(1, Count(side, "DELETE FROM t WHERE id = ?", "DELETE", "ok"));
            Assert.Equal([1062, 1062, 1062], side.Where(c => c.Status == "error" && c.Fingerprint == "INSERT INTO t VALUES (?)").Select(c => c.ErrorCode));
            Assert.Equal(11, side.Count(c => c.ErrorCode == 1146 && c.SqlState == "42S02")); // 10 from the CLI, 1 pipelined
            Assert.Equal(5, side.Count(c => c.ErrorCode == 1064 && c.SqlState == "42000"));
            Assert.Equal(Executions, Count(side, "SELECT v FROM t WHERE id = ?", "SELECT", "ok", "COM_STMT_EXECUTE"));
            Assert.Equal(1, Count(side, "SELECT v FROM t WHERE id = ?", "SELECT", "ok", "COM_STMT_PREPARE"));

            var big = Assert.Single(side, c => c.Fingerprint == "SELECT * FROM big");
            // Only the first and last 4 KiB of each binary segment are copied: the rows between are estimated (exact
            // for rows of gradually changing size, as here, unless ring-buffer losses hide a result's end).
            Assert.True(big.Rows == BigRows || (big.Truncated && big.Rows is > BigRows * 98 / 100 and < BigRows * 102 / 100), $"rows {big.Rows} of {BigRows}");
            var insert = Assert.Single(side, c => c.Fingerprint.StartsWith("INSERT INTO blobs VALUES", StringComparison.Ordinal));
            Assert.Equal(("ok", 1L), (insert.Status, insert.AffectedRows ?? -1));
            // Exact unless the kernel lost the statement's last bytes and no later client bytes reported it before the answer.
            Assert.InRange(insert.RequestBytes ?? -1, 16 * 1024 * 1024, 21 * 1024 * 1024);
            Assert.Equal(4, Assert.Single(side, c => c.Fingerprint == "CALL p()").Rows);
            Assert.Equal(4, Assert.Single(side, c => c.Fingerprint == "SELECT ?; SELECT id FROM t ORDER BY id LIMIT ?").Rows);
            Assert.InRange(Assert.Single(side, c => c.Fingerprint == "SELECT SLEEP(?)").DurationNs, 200_000_000, 10_000_000_000);
            Assert.Equal(1, Count(side, "DO ?", "OTHER", "ok"));
        }

        foreach (var side in new[] { clientOut, serverIn })
        {
            var big = side.Single(c => c.Fingerprint == "SELECT * FROM big");
            var insert = side.Single(c => c.Fingerprint.StartsWith("INSERT INTO blobs VALUES", StringComparison.Ordinal));
            output.WriteLine(
                $"{side[0].Pod} {side[0].Direction}: {side.Count} exchanges (general log: {answered.Count}); SELECT * FROM big: rows={big.Rows} "
                + $"truncated={big.Truncated} {big.DurationNs / 1e6:F1} ms; 20 MB insert: '{insert.Fingerprint}' request_bytes={insert.RequestBytes} "
                + $"truncated={insert.Truncated}; SLEEP(0.2): {side.Single(c => c.Fingerprint == "SELECT SLEEP(?)").DurationNs / 1e6:F1} ms");
        }

        Assert.Equal(2 * 5, await scenario.CountAsync("http_requests", "duration_ns"));
        var counters = await scenario.LastAgentMetricsAsync("MySql");
        output.WriteLine("MySql counters: " + string.Join(' ', counters.Where(c => c.Value != 0).Select(c => $"{c.Key}={c.Value}")));
        output.WriteLine("Capture counters: " + string.Join(' ', (await scenario.LastAgentMetricsAsync("Capture")).Where(c => c.Value != 0).Select(c => $"{c.Key}={c.Value}")));
        Assert.True(counters["tls_connections"] == 2 && counters["unknown_statements"] == 0 && counters["invalid_packets"] == 0
            && counters["unanswered_commands"] == 0 && counters["pipeline_overflow"] == 0 && counters["unmatched_responses"] == 0,
            string.Join(' ', counters.Select(c => $"{c.Key}={c.Value}")));

        await AssertDashboardQueriesAsync(scenario);
        await PromQlDashboards.AssertAnswerAsync(prometheus, "mysql.json");
        await prometheus.WaitForValueAsync(
            "sum(kubebpf_mysql_requests_total{fingerprint=\"SELECT * FROM t WHERE id = ? AND v <> ?\"})", 2 * Selects, TimeSpan.FromSeconds(60));

        // No literal anywhere: every point of every measurement, and all the agent wrote.
        var stored = new StringBuilder();
        foreach (var measurement in (await influx.QueryAsync(scenario.Database, "SHOW MEASUREMENTS")).Select(r => r.Values["name"].GetString()!))
        {
            foreach (var row in await influx.QueryAsync(scenario.Database, $"SELECT * FROM \"{measurement}\" GROUP BY *"))
            {
                stored.AppendJoin(' ', row.Tags.Values).AppendJoin(' ', row.Values.Values.Select(v => v.ToString())).AppendLine();
            }
        }

        Assert.Contains("SELECT * FROM t WHERE id = ? AND v <> ?", stored.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, stored.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, agent.StandardOutput + agent.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_100000_row_result_is_one_exchange_with_every_row_counted_when_the_capture_keeps_every_byte()
    {
        await using var scenario = AgentScenario.Create(influx);
        using var mariadb = PodMariaDb.Start(scenario.Pods, scenario.Server, Port);
        mariadb.Admin($"CREATE DATABASE shop; USE shop; CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(16)); INSERT INTO big SELECT seq, 'abcdefgh' FROM seq_1_to_{BigRows};");
        var interfaces = new[] { scenario.Server.HostInterface, scenario.Client.HostInterface };
        await scenario.StartAgentAsync(new Dictionary<string, object>
        {
            ["MySql"] = new { },
            ["Capture"] = new { Interfaces = interfaces, PeerSideInterfaces = interfaces, CopyBinarySegments = true, RingBufferBytes = 64 * 1024 * 1024 },
        });
        Cli(scenario, "SELECT * FROM big;\n");
        await WaitForAsync(scenario, 2);
        Assert.Equal(0, await scenario.StopAgentAsync());

        var calls = await CallsAsync(scenario);
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal(("SELECT * FROM big", (long?)BigRows, false), (c.Fingerprint, c.Rows, c.Truncated)));
        var capture = await scenario.LastAgentMetricsAsync("Capture");
        output.WriteLine("Capture counters: " + string.Join(' ', capture.Where(c => c.Value != 0).Select(c => $"{c.Key}={c.Value}")));
    }

    /// <summary>Every query of the MySQL dashboard, run as Grafana would over the whole test, answers, and answers right.</summary>
    private async Task AssertDashboardQueriesAsync(AgentScenario scenario)
    {
        var dashboard = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "dashboards", "mysql.json"));
        var variables = new Dictionary<string, string?> { ["namespace"] = AgentScenario.Namespace, ["workload"] = null, ["pod"] = null, ["direction"] = null };
        var (from, to) = (DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        var results = new Dictionary<string, IReadOnlyList<InfluxRow>>();
        foreach (var (name, query) in GrafanaQuery.Queries(dashboard))
        {
            var rows = await influx.QueryAsync(scenario.Database, GrafanaQuery.Substitute(query, variables, from, to, "3650d"));
            Assert.True(rows.Count > 0, $"{name} returned nothing: {query}");
            results[name] = rows;
        }

        Assert.Equal(10, results.Count);
        Assert.Equal([scenario.ClientPod, scenario.ServerPod], results["variable pod"].Select(r => r.Values["value"].GetString()).Order(StringComparer.Ordinal));
        var byCount = results["panel 'Top statements by count' A"];
        Assert.Equal(2 * Selects, byCount.Single(r => r.Values["fingerprint"].GetString() == "SELECT * FROM t WHERE id = ? AND v <> ?").Values["calls"].GetInt64());
        var byTime = results["panel 'Top statements by total time' A"];
        Assert.InRange(byTime.Single(r => r.Values["fingerprint"].GetString() == "SELECT SLEEP(?)").Values["total_ms"].GetDouble(), 400, 20_000);
        var errors = results["panel 'Error codes' A"];
        Assert.Equal(["1062: 6", "1064: 10", "1146: 22"],
            errors.GroupBy(r => r.Values["error_code"].GetInt64()).Select(g => $"{g.Key}: {g.Count()}").Order(StringComparer.Ordinal));
        Assert.Contains(results["panel 'Slowest statements' A"], r => r.Values["fingerprint"].GetString() == "SELECT SLEEP(?)");
    }

    private static void Cli(AgentScenario scenario, string statements, string options = "")
    {
        var file = Path.Combine(scenario.WorkDirectory, $"statements-{Guid.NewGuid():N}.sql");
        File.WriteAllText(file, statements);
        NetworkPods.Exec(scenario.Client, $"mariadb --no-defaults -h {scenario.Server.IPv4} -P {Port} -u app --skip-ssl {options} shop < {file} > /dev/null 2>&1", check: options.Length == 0);
    }

    private static async Task WaitForAsync(AgentScenario scenario, long expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await scenario.CountAsync("mysql_requests", "duration_ns") >= expected)
                {
                    return;
                }
            }
            catch (InvalidOperationException e) when (e.Message.Contains("database not found", StringComparison.Ordinal))
            {
                // the sink creates it with its first write
            }

            await Task.Delay(200);
        }
    }

    private static string LogCommand(string command) => command switch
    {
        "COM_QUERY" => "Query",
        "COM_STMT_PREPARE" => "Prepare",
        "COM_STMT_EXECUTE" => "Execute",
        "COM_INIT_DB" => "Init DB",
        "COM_PING" => "Ping",
        "COM_STMT_RESET" => "Reset stmt",
        "COM_FIELD_LIST" => "Field List",
        _ => command,
    };

    private static int Count(IEnumerable<GeneralLogEntry> entries, string command, Regex argument) =>
        entries.Count(e => e.Command == command && argument.IsMatch(e.Argument));

    private static int Count(IEnumerable<MySqlCall> calls, string fingerprint, string type, string status, string command = "COM_QUERY") =>
        calls.Count(c => c.Fingerprint == fingerprint && c.Type == type && c.Status == status && c.Command == command);

    private static async Task<IReadOnlyList<MySqlCall>> CallsAsync(AgentScenario scenario)
    {
        var points = await scenario.PointsAsync("mysql_requests");
        return [.. points.Select(p => new MySqlCall(
            p["pod"].GetString()!, p["direction"].GetString()!, p["statement_type"].GetString()!, p["status"].GetString()!,
            p["command"].GetString()!, p["fingerprint"].GetString()!, Integer(p, "error_code") is { } code ? (int)code : null,
            p.TryGetValue("sql_state", out var state) ? state.GetString() : null, Integer(p, "rows"), Integer(p, "affected_rows"),
            p.TryGetValue("truncated", out var truncated) && truncated.GetBoolean(), p["duration_ns"].GetInt64(), Integer(p, "request_bytes")))];
    }

    private static long? Integer(IReadOnlyDictionary<string, JsonElement> point, string name) =>
        point.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;

    [GeneratedRegex(@"^SELECT \* FROM t WHERE id = \d+ AND v <> 'kbpf-secret-\d+'$")]
    private static partial Regex SelectPattern();

    private sealed record MySqlCall(
        string Pod, string Direction, string Type, string Status, string Command, string Fingerprint, int? ErrorCode, string? SqlState,
        long? Rows, long? AffectedRows, bool Truncated, long DurationNs, long? RequestBytes);

    // Server-side prepared statements (COM_STMT_PREPARE / EXECUTE / CLOSE): one PREPARE, n EXECUTEs.
    private const string PreparedClient =
        "use DBI; my ($host, $port, $n) = @ARGV; "
        + "my $db = DBI->connect(\"DBI:MariaDB:database=shop;host=$host;port=$port;mariadb_server_prepare=1\", \"app\", \"\", {RaiseError => 1}); "
        + "my $st = $db->prepare(\"SELECT v FROM t WHERE id = ?\"); "
        + "for my $i (1..$n) { $st->execute($i); my @row = $st->fetchrow_array; die \"no row $i\" unless @row; } "
        + "$st->finish; undef $st; $db->disconnect;";

    // PyMySQL (Debian's python3-pymysql): two statements in one COM_QUERY, two result sets.
    private const string MultiStatementClient = """
        import sys, pymysql
        from pymysql.constants import CLIENT
        db = pymysql.connect(host=sys.argv[1], port=int(sys.argv[2]), user="app", password="", database="shop",
                             client_flag=CLIENT.MULTI_STATEMENTS)
        with db.cursor() as cursor:
            cursor.execute("SELECT 1; SELECT id FROM t ORDER BY id LIMIT 3")
            while cursor.nextset():
                pass
        db.close()
        """;

    // Logs in (no password), sends every statement in one write, then reads the answers: ok, err, or rows.
    private const string PipeliningClient = """
        import socket, struct, sys
        sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
        def packet():
            head = b""
            while len(head) < 4:
                head += sock.recv(4 - len(head))
            length = head[0] | head[1] << 8 | head[2] << 16
            body = b""
            while len(body) < length:
                body += sock.recv(length - len(body))
            return body
        packet()
        caps = 0x200 | 0x8000 | 0x8 | 0x80000 | 0x20000
        hello = struct.pack("<IIB23s", caps, 1 << 24, 45, b"") + b"app\0" + b"\0" + b"shop\0" + b"mysql_native_password\0"
        sock.sendall(struct.pack("<I", len(hello))[:3] + b"\1" + hello)
        assert packet()[0] == 0
        sock.sendall(b"".join(struct.pack("<I", len(q) + 1)[:3] + b"\0\3" + q.encode() for q in sys.argv[3:]))
        out = []
        for _ in sys.argv[3:]:
            first = packet()
            if first[0] in (0, 0xFF):
                out.append("ok" if first[0] == 0 else "err")
                continue
            eofs = 0
            while eofs < 2:
                p = packet()
                eofs += p[0] == 0xFE and len(p) < 9
            out.append("rows")
        sock.sendall(b"\1\0\0\0\1")
        sock.close()
        print("\n".join(out))
        """;
}
