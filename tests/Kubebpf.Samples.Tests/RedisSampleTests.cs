using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kubebpf.Testing;

namespace Kubebpf.Samples.Tests;

/// <summary>
/// samples/RedisParser built against the packed SDK: its own unit tests, and the published agent's capture feeding it
/// a real redis-server's traffic between two network-namespace pods, counted against the server's own statistics.
/// </summary>
[Collection(OutOfTreeCollection.Name)]
public sealed partial class RedisSampleTests(OutOfTree outOfTree)
{
    private const string ParserInstance = "Redis";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public void The_samples_own_tests_pass_against_the_package()
    {
        var sample = outOfTree.Sample("RedisParser");

        var output = DotNet.Run(sample, "test", "tests/RedisParser.Tests", "-c", "Release", $"-p:KubebpfSdkVersion={outOfTree.SdkVersion}");

        var summary = TestSummary().Match(output);
        Assert.True(summary.Success, output);
        Assert.Equal("0", summary.Groups["failed"].Value);
        Assert.InRange(int.Parse(summary.Groups["passed"].Value, CultureInfo.InvariantCulture), 50, int.MaxValue);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public async Task Every_command_to_a_real_redis_server_is_paired_and_counted_as_the_server_counts_it()
    {
        Assert.True(Environment.IsPrivilegedProcess, "Kernel tests run as root (sudo ./build.sh --target=Test).");
        var work = Directory.CreateDirectory(Path.Combine(outOfTree.Root, "redis-run")).FullName;
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        pods.Start(server, "redis-server", "--port", "6379", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no");
        // Setup and statistics go over the server pod's own loopback, which the agent does not observe.
        Poll.Until(() => Loopback(server, "ping", check: false) == "PONG", "redis-server to answer PING", timeout: Deadline);
        Loopback(server, "config resetstat");

        using var agent = AgentProcess.Start(Configuration(work, server.HostInterface), work);
        await agent.WaitForLogAsync("Capture attached to", Deadline);

        // One connection per redis-cli call; errors: wrong arity (rejected), WRONGTYPE and not-an-integer (failed).
        foreach (var command in new[]
        {
            "set greeting hello", "get greeting", "-r 3 incr counter", "lpush list a b c", "get", "lpush greeting x", "incr greeting",
            "get missing",
        })
        {
            NetworkPods.Exec(client, $"redis-cli -h {server.IPv4} {command}", check: false); // exits 1 after an error reply
        }

        // Pipelined: 42 commands in one write (a 300 KB value among them), the replies read back in as few as come.
        PodPython.Run(client, PipelineScript, server.IPv4);

        var expected = ServerCommandStats(server);
        Assert.Equal(
            new Dictionary<string, (long Seen, long Errors)>
            {
                ["GET"] = (13, 1), ["SET"] = (12, 0), ["INCR"] = (24, 1), ["LPUSH"] = (2, 1), ["PING"] = (1, 0),
            },
            expected);
        var total = expected.Values.Sum(c => c.Seen);
        Poll.Until(() => ParserCounter(work, "exchanges") >= total, $"the parser's exchanges counter to reach {total}", () => SelfMetrics(work), Deadline);
        var exitCode = await agent.StopAsync(Deadline);
        Assert.True(exitCode == 0, $"The agent exited with {exitCode}:\n{agent.StandardError}");

        var points = File.ReadLines(Path.Combine(work, "redis.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(expected, CallLog(points));
        Assert.Equal(expected, Red(points));
        foreach (var loss in new[] { "desyncs", "unmatched_replies", "unanswered_commands", "untracked_commands", "push_messages", "unpaired_connections" })
        {
            Assert.True(ParserCounter(work, loss) == 0, $"{loss} = {ParserCounter(work, loss)}");
        }

        Assert.Equal(total, ParserCounter(work, "exchanges"));
    }

    private const string PipelineScript = """
        import socket, sys

        def command(*args):
            out = b"*%d\r\n" % len(args)
            for arg in args:
                arg = arg if isinstance(arg, bytes) else arg.encode()
                out += b"$%d\r\n%s\r\n" % (len(arg), arg)
            return out

        batch = b"".join(
            [command("INCR", "pipe") for _ in range(20)]
            + [command("SET", "p:%d" % i, "v%d" % i) for i in range(10)]
            + [command("GET", "p:%d" % i) for i in range(10)]
            + [command("SET", "big", b"x" * 300000), command("PING")])
        connection = socket.create_connection((sys.argv[1], 6379), timeout=20)
        connection.sendall(batch)
        replies = b""
        while not replies.endswith(b"+PONG\r\n"):
            chunk = connection.recv(65536)
            if not chunk:
                sys.exit("the server closed the connection before the last reply")
            replies += chunk
        connection.close()
        """;

    private object Configuration(string work, string serverInterface) => new
    {
        Agent = new
        {
            PluginDirectories = new[] { outOfTree.DropIn, Path.Combine(RepositoryPaths.PublishedAgent, "plugins") },
            FlushInterval = "00:00:01",
        },
        Plugins = new Dictionary<string, object>
        {
            ["Capture"] = new { Interfaces = new[] { serverInterface }, PeerSideInterfaces = new[] { serverInterface } },
            [ParserInstance] = new { Plugin = "RedisParser" },
            ["Red"] = new { },
            ["Calls"] = new { Plugin = "JsonLinesSink", Path = Path.Combine(work, "redis.jsonl"), Measurements = new[] { "redis_requests", "redis_red" } },
            ["SelfMetrics"] = new { Plugin = "JsonLinesSink", Path = Path.Combine(work, "agent.jsonl"), Measurements = new[] { "kubebpf_agent" } },
        },
    };

    private static string Loopback(Pod server, string command, bool check = true) =>
        NetworkPods.Exec(server, $"redis-cli -h 127.0.0.1 {command}", check).Output.Trim();

    /// <summary>
    /// What the server executed or refused, per command (upper case): <c>calls</c> counts executed commands, failed
    /// ones among them (<c>failed_calls</c>); <c>rejected_calls</c> were refused before running (wrong arity). Both kinds
    /// were answered with an error. The loopback's own CONFIG RESETSTAT and INFO are left out.
    /// </summary>
    private static Dictionary<string, (long Seen, long Errors)> ServerCommandStats(Pod server)
    {
        var stats = new Dictionary<string, (long Seen, long Errors)>();
        foreach (Match line in CommandStat().Matches(Loopback(server, "info commandstats")))
        {
            // Subcommands have their own lines (config|resetstat); the agent names a call by its command.
            var name = line.Groups["name"].Value.Split('|')[0].ToUpperInvariant();
            long Read(string group) => long.Parse(line.Groups[group].Value, CultureInfo.InvariantCulture);
            if (name is not ("CONFIG" or "INFO"))
            {
                var (seen, errors) = stats.GetValueOrDefault(name);
                stats[name] = (seen + Read("calls") + Read("rejected"), errors + Read("failed") + Read("rejected"));
            }
        }

        return stats;
    }

    // redis_requests: one point per exchange; an error's status is its error class, anything else "ok".
    private static Dictionary<string, (long Seen, long Errors)> CallLog(List<JsonElement> points) =>
        points.Where(p => p.GetProperty("measurement").GetString() == "redis_requests")
            .GroupBy(p => p.GetProperty("tags").GetProperty("command").GetString()!)
            .ToDictionary(g => g.Key, g => ((long)g.Count(), (long)g.Count(p => p.GetProperty("tags").GetProperty("status").GetString() != "ok")));

    // redis_red: per window and command (the "*" roll-up left out), summed over the windows.
    private static Dictionary<string, (long Seen, long Errors)> Red(List<JsonElement> points) =>
        points.Where(p => p.GetProperty("measurement").GetString() == "redis_red" && p.GetProperty("tags").GetProperty("command").GetString() != "*")
            .GroupBy(p => p.GetProperty("tags").GetProperty("command").GetString()!)
            .ToDictionary(
                g => g.Key,
                g => (g.Sum(p => p.GetProperty("fields").GetProperty("requests").GetInt64()), g.Sum(p => p.GetProperty("fields").GetProperty("errors").GetInt64())));

    /// <summary>The parser instance's counter in its last self-metrics point; 0 before the first.</summary>
    private static long ParserCounter(string work, string name) =>
        LastSelfMetrics(work, ParserInstance) is { } last ? last.GetProperty("fields").GetProperty(name).GetInt64() : 0;

    private static JsonElement? LastSelfMetrics(string work, string component)
    {
        var path = Path.Combine(work, "agent.jsonl");
        return File.Exists(path)
            ? File.ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement)
                .Where(p => p.GetProperty("tags").GetProperty("component").GetString() == component).Select(p => (JsonElement?)p).LastOrDefault()
            : null;
    }

    // For a failure message: what the parser and the capture counted last.
    private static string SelfMetrics(string work) => $"{ParserInstance} {LastSelfMetrics(work, ParserInstance)}\nCapture {LastSelfMetrics(work, "Capture")}";

    [GeneratedRegex(@"cmdstat_(?<name>[a-z|_]+):calls=(?<calls>\d+),.*rejected_calls=(?<rejected>\d+),failed_calls=(?<failed>\d+)")]
    private static partial Regex CommandStat();

    [GeneratedRegex(@"Failed:\s+(?<failed>\d+), Passed:\s+(?<passed>\d+)")]
    private static partial Regex TestSummary();
}
