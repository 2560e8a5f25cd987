using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>SIGTERM: the agent writes what it saw, exits 0 in time, and leaves no socket filter or BPF object behind.</summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class ShutdownTests(InfluxDbServer influx)
{
    private const int Requests = 3;

    /// <summary>The agent's default <c>Agent:ShutdownTimeout</c>: exiting later would mean it gave up on something.</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Sigint_flushes_the_last_exchanges_exits_0_and_releases_sockets_programs_and_maps()
    {
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
        var agent = await scenario.StartAgentAsync();

        var programs = BpfObjectIds(agent.Id, "prog_id");
        var maps = BpfObjectIds(agent.Id, "map_id");
        var sockets = PacketSocketInodes(agent.Id);
        Assert.Equal(["packet_capture"], ProgramNames(programs));
        Assert.NotEmpty(maps);
        Assert.Subset(LoadedMapIds().ToHashSet(), maps);
        Assert.Equal(2, sockets.Count); // one raw socket per observed interface

        // No waiting for the call log: what the probe saw must reach InfluxDB through the shutdown's own flush.
        NetworkPods.Exec(scenario.Client, $"for i in $(seq {Requests}); do curl -sf -o /dev/null http://{scenario.Server.IPv4}/ok || exit 1; done");
        Assert.Equal(0, await agent.StopAsync(ShutdownTimeout)); // throws when it takes longer
        Assert.DoesNotContain("Shutdown: gave up waiting", agent.StandardError, StringComparison.Ordinal);

        Assert.Equal(2 * Requests, await scenario.CountAsync("http_requests", "duration_ns"));
        Assert.Empty(ProgramNames(programs));
        Assert.Empty(LoadedMapIds().Intersect(maps));
        Assert.Empty(PacketSocketInodesOnHost().Intersect(sockets));
    }

    /// <summary>The ids of the BPF programs or maps a process holds, from the <c>prog_id</c>/<c>map_id</c> line of each fd's fdinfo.</summary>
    private static HashSet<long> BpfObjectIds(int pid, string key)
    {
        var ids = new HashSet<long>();
        foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fdinfo"))
        {
            try
            {
                foreach (var line in File.ReadLines(fd))
                {
                    if (line.StartsWith(key + ":", StringComparison.Ordinal))
                    {
                        ids.Add(long.Parse(line[(key.Length + 1)..].Trim(), CultureInfo.InvariantCulture));
                    }
                }
            }
            catch (IOException)
            {
                // the fd was closed while listing
            }
        }

        return ids;
    }

    /// <summary>The names of the loaded programs among <paramref name="ids"/>, by bpftool.</summary>
    private static List<string> ProgramNames(HashSet<long> ids) =>
        [.. Bpftool("prog").Where(p => ids.Contains(p.GetProperty("id").GetInt64())).Select(p => p.GetProperty("name").GetString()!)];

    private static IEnumerable<long> LoadedMapIds() => Bpftool("map").Select(m => m.GetProperty("id").GetInt64());

    private static List<JsonElement> Bpftool(string objectType)
    {
        var result = RunOnHost("bpftool", "--json", objectType, "show");
        using var json = JsonDocument.Parse(result);
        return [.. json.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>The inodes of the AF_PACKET sockets a process holds: its socket fds that <c>/proc/net/packet</c> lists.</summary>
    private static HashSet<long> PacketSocketInodes(int pid)
    {
        var packet = PacketSocketInodesOnHost();
        var held = new HashSet<long>();
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            var target = new FileInfo(fd).LinkTarget;
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)
                && long.TryParse(target["socket:[".Length..^1], CultureInfo.InvariantCulture, out var inode)
                && packet.Contains(inode))
            {
                held.Add(inode);
            }
        }

        return held;
    }

    /// <summary>The inode column of <c>/proc/net/packet</c> (the host's network namespace, where the agent runs).</summary>
    private static HashSet<long> PacketSocketInodesOnHost() =>
        [.. File.ReadLines("/proc/net/packet").Skip(1)
            .Select(line => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1], CultureInfo.InvariantCulture))];

    private static string RunOnHost(string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}: {errors.Result}");
        return output;
    }
}
