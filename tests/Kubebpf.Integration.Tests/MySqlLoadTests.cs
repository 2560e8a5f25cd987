using System.Globalization;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// Many small statements over many connections (mysqlslap: 50 threads, each its own connection, against MariaDB's
/// thread per connection): a workload of a hundred busy threads, which left the capture's drain too little CPU to
/// empty the ring. Every statement is counted once per side, exactly as the server counted it, and no record is lost.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class MySqlLoadTests(InfluxDbServer influx, ITestOutputHelper output)
{
    private const int Port = 3306;
    private const int Connections = 50;
    private const int StatementsPerRound = 2_000;
    private const int Rounds = 30;

    /// <summary>One round starts at most this often: at most 20,000 statements/s, which two busy cores sustain.</summary>
    private const int RoundIntervalMs = 100;

    // Runs mysqlslap rounds paced from a fixed start (a slow round is caught up by the next ones starting at once).
    private const string PacedRounds = """
        import subprocess, sys, time
        host, port, connections, per_round, rounds, interval = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]) / 1000
        start = time.monotonic()
        for i in range(rounds):
            delay = start + i * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            subprocess.run(["mysqlslap", "--no-defaults", "-h", host, "-P", port, "-u", "app", "--skip-ssl", f"--concurrency={connections}",
                            f"--number-of-queries={per_round}", "--query=SELECT 1", "--create-schema=slap"], check=True, capture_output=True)
        print(f"{rounds * per_round / (time.monotonic() - start):.0f}")
        """;

    [Fact]
    public async Task Fifty_connections_of_small_statements_are_counted_exactly_with_no_record_lost()
    {
        await using var scenario = AgentScenario.Create(influx);
        using var mariadb = PodMariaDb.Start(scenario.Pods, scenario.Server, Port);
        mariadb.Admin($"CREATE DATABASE slap; SET GLOBAL max_connections = {4 * Connections};");
        await scenario.StartAgentAsync(new Dictionary<string, object> { ["MySql"] = new { } });

        var selectsBefore = ComSelect(mariadb);
        var rate = PodPython.Run(scenario.Client, PacedRounds, scenario.Server.IPv4, Port.ToString(CultureInfo.InvariantCulture),
            Connections.ToString(CultureInfo.InvariantCulture), StatementsPerRound.ToString(CultureInfo.InvariantCulture),
            Rounds.ToString(CultureInfo.InvariantCulture), RoundIntervalMs.ToString(CultureInfo.InvariantCulture)).Trim();
        var selects = ComSelect(mariadb) - selectsBefore;
        Assert.Equal(Rounds * StatementsPerRound, selects); // the server's own count: what the capture must find

        // Until both sides are counted, or the deadline: the assertions below then say what is missing and where it went.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var counted = await RedRequestsAsync(scenario);
        while (DateTime.UtcNow < deadline && (counted.GetValueOrDefault("in") < selects || counted.GetValueOrDefault("out") < selects))
        {
            await Task.Delay(200);
            counted = await RedRequestsAsync(scenario);
        }

        Assert.Equal(0, await scenario.StopAgentAsync());

        counted = await RedRequestsAsync(scenario);
        var capture = await scenario.LastAgentMetricsAsync("Capture");
        var mySql = await scenario.LastAgentMetricsAsync("MySql");
        output.WriteLine($"{selects} statements at {rate}/s; R.E.D.: in {counted.GetValueOrDefault("in")}, out {counted.GetValueOrDefault("out")}; "
            + $"{capture["packets"]} records ({(double)capture["packets"] / selects:F2} per statement); counters: {await scenario.NonZeroCountersAsync()}");
        Assert.Equal((selects, selects), (counted.GetValueOrDefault("in"), counted.GetValueOrDefault("out")));
        Assert.Equal(
            (0L, 0L, 0L, 0L),
            (capture["ringbuf_full"], capture["dropped_records"], mySql["desyncs"], mySql["unanswered_commands"]));
    }

    private static long ComSelect(PodMariaDb mariadb) =>
        long.Parse(mariadb.Admin("SHOW GLOBAL STATUS LIKE 'Com_select'").Split('\t')[1].Trim(), CultureInfo.InvariantCulture);

    /// <summary>The statements R.E.D. counted per direction, over every window.</summary>
    private static async Task<Dictionary<string, long>> RedRequestsAsync(AgentScenario scenario)
    {
        var rows = await scenario.QueryAsync("SELECT SUM(requests) FROM mysql_red WHERE fingerprint = 'SELECT ?' GROUP BY direction");
        return rows.ToDictionary(r => r.Tags["direction"], r => r.Values["sum"].GetInt64());
    }
}
