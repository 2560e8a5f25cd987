using System.Diagnostics;
using System.Text.Json;
using Kubebpf.Testing;

namespace Kubebpf.Samples.Tests;

/// <summary>samples/ExecProbe and samples/JsonLinesSink, built against the packed SDK and dropped into the published agent.</summary>
[Collection(OutOfTreeCollection.Name)]
public sealed class SampleTests(OutOfTree outOfTree)
{
    [Theory]
    [InlineData("ExecProbe", new[] { "exec.bpf.o" })]
    [InlineData("JsonLinesSink", new string[0])]
    [InlineData("RedisParser", new string[0])]
    public void A_sample_publishes_to_a_plugin_folder_without_the_sdk_or_its_dependencies(string sample, string[] embeddedObjects)
    {
        var folder = Path.Combine(outOfTree.DropIn, sample);

        Assert.Equal([$"{sample}.deps.json", $"{sample}.dll", $"{sample}.pdb", $"{sample}.runtimeconfig.json"], Assemblies.Files(folder));
        Assert.Equal(embeddedObjects, Assemblies.EmbeddedResources(Path.Combine(folder, sample + ".dll")));
    }

    [Fact]
    public void The_published_agent_loads_the_samples_from_a_drop_in_folder_through_its_own_contract_types()
    {
        var work = Directory.CreateDirectory(Path.Combine(outOfTree.Root, "plugins-command")).FullName;
        var config = Path.Combine(work, "kubebpf.json");
        var configuration = JsonSerializer.SerializeToNode(Configuration(work))!;
        configuration["Plugins"]!["Redis"] = new System.Text.Json.Nodes.JsonObject { ["Plugin"] = "RedisParser" };
        File.WriteAllText(config, configuration.ToJsonString());

        var listing = RunAgentCommand("plugins", "--config", config);

        // "Loaded" with its components means the IPlugin, IProbe, IPointSink, IStreamProtocol and MeasurementContract the samples were
        // compiled against are the host's own types: a second copy of the SDK would have failed every cast.
        var instances = listing.Split('\n').Select(line => string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.Contains("ExecProbe ExecProbe Loaded 1 probe, writes process_exec", instances);
        Assert.Contains("Execs JsonLinesSink Loaded 1 sink", instances);
        Assert.Contains("SelfMetrics JsonLinesSink Loaded 1 sink", instances);
        Assert.Contains("Redis RedisParser Loaded parses redis/tcp", instances);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public async Task The_exec_probe_attaches_for_real_and_the_json_sink_receives_the_executed_binary()
    {
        Assert.True(Environment.IsPrivilegedProcess, "Kernel tests run as root (sudo ./build.sh --target=Test).");
        var work = Directory.CreateDirectory(Path.Combine(outOfTree.Root, "exec-run")).FullName;
        var name = $"kbpf-exec-{Guid.NewGuid():N}"[..20];
        var binary = Path.Combine(work, name);
        File.Copy("/bin/true", binary); // keeps its mode: executable
        using var agent = AgentProcess.Start(Configuration(work), work);
        await agent.WaitForLogAsync("Exec probe attached to tracepoint sched:sched_process_exec", TimeSpan.FromSeconds(30));

        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        using (var run = Process.Start(binary))
        {
            await run.WaitForExitAsync();
            var pid = run.Id;
            var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 + 1_000_000;
            var execs = Path.Combine(work, "execs.jsonl");
            var line = await WaitForLineAsync(execs, $"\"filename\":\"{binary}\"");
            var exitCode = await agent.StopAsync(TimeSpan.FromSeconds(20));
            Assert.True(exitCode == 0, $"The agent exited with {exitCode}:\n{agent.StandardError}\n{agent.StandardOutput}");

            using var point = JsonDocument.Parse(line);
            var timestamp = point.RootElement.GetProperty("timestamp").GetInt64();
            Assert.InRange(timestamp, before, after);
            Assert.Equal(
                $$"""{"measurement":"process_exec","tags":{"comm":"{{name[..15]}}"},"fields":{"pid":{{pid}},"uid":0,"gid":0,"filename":"{{binary}}","cgroup_id":{{CgroupId()}}},"timestamp":{{timestamp}}}""",
                line);
            Assert.All(File.ReadLines(execs), l => Assert.StartsWith("""{"measurement":"process_exec",""", l, StringComparison.Ordinal));
        }

        // The second instance of the sink, configured for self-metrics only: both instances ran side by side.
        var selfMetrics = File.ReadLines(Path.Combine(work, "agent.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(selfMetrics, p => Assert.Equal("kubebpf_agent", p.GetProperty("measurement").GetString()));
        var probe = selfMetrics.Last(p => p.GetProperty("tags").GetProperty("component").GetString() == "ExecProbe").GetProperty("fields");
        Assert.Equal(0, probe.GetProperty("bad_records").GetInt64());
        Assert.Equal(0, probe.GetProperty("ringbuf_full").GetInt64());
        Assert.InRange(probe.GetProperty("execs").GetInt64(), 1, long.MaxValue);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void Check_checks_what_the_configured_probes_need_with_the_default_configuration_when_none_is_named()
    {
        var work = Directory.CreateDirectory(Path.Combine(outOfTree.Root, "check-command")).FullName;
        var config = Path.Combine(work, "kubebpf.json");
        File.WriteAllText(config, JsonSerializer.Serialize(Configuration(work)));

        // ExecProbe attaches to a tracepoint (tracefs); the sinks need nothing. The default configuration beside the
        // agent runs the capture, whose socket filters need no BTF, bpffs or tracefs.
        Assert.Equal(["privileges", "memlock", "bpf syscall", "tracefs"], CheckedNames(RunAgentCommand("check", "--config", config)));
        Assert.Equal(["privileges", "memlock", "bpf syscall"], CheckedNames(RunAgentCommand("check")));

        static string[] CheckedNames(string report) =>
            [.. report.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[(line.IndexOf(']', StringComparison.Ordinal) + 2)..line.IndexOf(':', StringComparison.Ordinal)])];
    }

    private object Configuration(string work) => new
    {
        Agent = new { PluginDirectories = new[] { outOfTree.DropIn }, FlushInterval = "00:00:01" },
        Plugins = new Dictionary<string, object>
        {
            ["ExecProbe"] = new { PollInterval = "00:00:00.005" },
            ["Execs"] = new { Plugin = "JsonLinesSink", Path = Path.Combine(work, "execs.jsonl"), Measurements = new[] { "process_exec" } },
            ["SelfMetrics"] = new { Plugin = "JsonLinesSink", Path = Path.Combine(work, "agent.jsonl"), Measurements = new[] { "kubebpf_agent" } },
        },
    };

    private static async Task<string> WaitForLineAsync(string path, string text)
    {
        for (var i = 0; i < 100; i++)
        {
            if (File.Exists(path) && File.ReadLines(path).FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"No line with {text} in {path} within 10 s.");
    }

    /// <summary>What bpf_get_current_cgroup_id() returns for this process (and its children): its cgroup v2 directory's inode.</summary>
    private static string CgroupId()
    {
        var path = File.ReadLines("/proc/self/cgroup").Single(l => l.StartsWith("0::", StringComparison.Ordinal))[3..];
        var mount = File.ReadLines("/proc/mounts").Select(l => l.Split(' ')).First(f => f[2] == "cgroup2")[1];
        return RunProcess("stat", "-c", "%i", mount + path.TrimEnd('/')).Trim();
    }

    private static string RunAgentCommand(params string[] arguments) =>
        RunProcess(Path.Combine(RepositoryPaths.PublishedAgent, "kubebpf"), arguments);

    private static string RunProcess(string executable, params string[] arguments)
    {
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{executable} {string.Join(' ', arguments)} exited with {process.ExitCode}: {error}");
        return output.Result;
    }
}
