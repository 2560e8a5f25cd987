using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// <c>samples/demo/run.sh</c> as a newcomer runs it, with the published agent: what Ctrl-C stops first, and what an
/// interrupted run leaves holding the demo's lock. The demo has fixed names (one at a time per machine, by its lock), so
/// a run that finds another demo running waits for it.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class DemoTests(ITestOutputHelper output)
{
    private const string LockFile = "/run/kubebpf-demo.lock";
    private static readonly string State = Path.Combine(RepositoryPaths.Root, ".demo");

    [Fact]
    public async Task Ctrl_c_stops_the_agent_first_so_that_its_last_flush_reaches_influxdb_then_the_servers()
    {
        using var demo = DemoRun.Start(output);
        var influxUrl = demo.WaitForInfluxUrl();
        demo.WaitForLog("starting the agent");
        await PollAsync(async () => await CountAsync(influxUrl, "SELECT count(\"requests\") FROM \"http_red\"") > 0, "the agent's first R.E.D. points in the demo's InfluxDB", demo.Log);

        // The terminal sends Ctrl-C to its foreground process group: the demo's, which InfluxDB must not be in.
        var influxdPid = int.Parse(File.ReadAllText(Path.Combine(State, "influxdb.pid")).Trim(), CultureInfo.InvariantCulture);
        var (demoGroup, influxGroup) = (ProcessGroup(demo.Pid), ProcessGroup(influxdPid));
        var interrupted = DateTimeOffset.UtcNow;
        KernelTest.Run("kill", "-INT", "--", $"-{demo.Pid}");
        Assert.True(demo.WaitForExit(TimeSpan.FromSeconds(90)), $"the demo ended after Ctrl-C:\n{demo.Log()}");

        Assert.DoesNotContain("Shutdown: gave up waiting", demo.Log(), StringComparison.Ordinal);
        // The agent's last flush is stamped with its shutdown: later than the Ctrl-C, so it only exists if InfluxDB
        // was still up when the agent stopped. Its self-metrics are in every flush; R.E.D. points are not (a window
        // without traffic writes none, and the traffic stops with the same Ctrl-C).
        using var influxd = Process.Start("/bin/sh", ["-c", $"exec influxd -config '{Path.Combine(State, "influxdb.conf")}' >/dev/null 2>&1"]);
        try
        {
            await PollAsync(async () => await PingAsync(influxUrl), "the demo's InfluxDB to start again", () => "");
            var since = (interrupted.ToUnixTimeMilliseconds() * 1_000_000).ToString(CultureInfo.InvariantCulture);
            var last = await CountAsync(influxUrl, $"SELECT count(\"running\") FROM \"kubebpf_agent\" WHERE time >= {since}");
            output.WriteLine($"self-metrics points stamped after the Ctrl-C: {last}");
            Assert.True(last > 0, $"no point of the agent's last flush (stamped after the Ctrl-C) reached InfluxDB:\n{demo.Log()}");
            Assert.NotEqual(demoGroup, influxGroup);
        }
        finally
        {
            influxd.Kill();
            await influxd.WaitForExitAsync();
        }
    }

    [Fact]
    public void Servers_left_by_an_interrupted_teardown_do_not_hold_the_lock_of_the_next_run()
    {
        using var demo = DemoRun.Start(output, "--no-agent");
        demo.WaitForLog("traffic: about"); // every server is up

        // Interrupted teardown: the script dies at once, its servers live on.
        KernelTest.Run("kill", "-KILL", demo.Pid.ToString(CultureInfo.InvariantCulture));
        Assert.True(demo.WaitForExit(TimeSpan.FromSeconds(10)), "the demo script died");
        try
        {
            // A command the script was running when it died (its one-second sleep) may hold the lock until it ends; servers never end.
            Poll.Until(() => LockHolders().Count == 0, $"no process to hold {LockFile} after the demo died", () => string.Join(", ", LockHolders()), TimeSpan.FromSeconds(5));
            using var flock = Process.Start("flock", ["-n", LockFile, "true"]);
            flock.WaitForExit();
            Assert.True(flock.ExitCode == 0, "the next demo run takes the lock");
        }
        finally
        {
            DemoRun.TearDown();
        }
    }

    private static int ProcessGroup(int pid) =>
        int.Parse(File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);

    /// <summary>The processes with a descriptor open on the demo's lock file, as "pid name".</summary>
    private static List<string> LockHolders()
    {
        var holders = new List<string>();
        foreach (var process in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(Path.Combine(process, "fd")).Any(fd => new FileInfo(fd).LinkTarget == LockFile))
                {
                    holders.Add($"{Path.GetFileName(process)} {File.ReadAllText(Path.Combine(process, "comm")).Trim()}");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the process ended while it was read
            }
        }

        return holders;
    }

    private static async Task<bool> PingAsync(string url)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            return (await http.GetAsync(new Uri(url + "/ping"))).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>The first count of an InfluxQL query against the demo's database, 0 when it has no rows or no database yet.</summary>
    private static async Task<long> CountAsync(string url, string query)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var body = await http.GetStringAsync(new Uri($"{url}/query?db=kubebpf&q={Uri.EscapeDataString(query)}"));
        using var json = JsonDocument.Parse(body);
        var result = json.RootElement.GetProperty("results")[0];
        return result.TryGetProperty("series", out var series) ? series[0].GetProperty("values")[0][1].GetInt64() : 0;
    }

    private static async Task PollAsync(Func<Task<bool>> condition, string what, Func<string> state)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}:\n{state()}");
            await Task.Delay(500);
        }
    }

    /// <summary>One run of the demo, the leader of its own process group as a terminal's foreground job is; torn down when disposed.</summary>
    private sealed class DemoRun : IDisposable
    {
        private readonly Process _process;
        private readonly string _log;

        private DemoRun(Process process, string log)
        {
            _process = process;
            _log = log;
        }

        public int Pid => _process.Id;

        /// <summary>Starts the demo once no other demo holds the machine (waiting up to 10 minutes for one to end).</summary>
        public static DemoRun Start(ITestOutputHelper output, params string[] arguments)
        {
            KernelTest.RequireRoot();
            Assert.True(File.Exists(Path.Combine(RepositoryPaths.PublishedAgent, "kubebpf")), "the published agent: ./build.sh --target=Publish");
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
            while (true)
            {
                var log = Path.Combine(Path.GetTempPath(), $"kubebpf-demo-{Environment.ProcessId}-{Guid.NewGuid():N}.log");
                var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
                start.ArgumentList.Add("-c");
                // As from a terminal: a test runner started in the background passes SIGINT on ignored, and a shell
                // cannot trap a signal ignored on entry, so the demo would not see the Ctrl-C at all.
                start.ArgumentList.Add("exec setsid env --default-signal=INT bash \"$0\" --no-build \"$@\" >\"$LOG\" 2>&1");
                start.ArgumentList.Add(Path.Combine(RepositoryPaths.Root, "samples", "demo", "run.sh"));
                foreach (var argument in arguments)
                {
                    start.ArgumentList.Add(argument);
                }

                start.Environment["LOG"] = log;
                var run = new DemoRun(Process.Start(start)!, log);
                // A demo that finds another one running says so at once; any other start gets past its lock.
                Poll.Until(() => run._process.HasExited || run.Log().Contains("cleaning up leftovers", StringComparison.Ordinal), "the demo to take its lock", run.Log, TimeSpan.FromSeconds(60));
                if (!run._process.HasExited || !run.Log().Contains("another demo is running", StringComparison.Ordinal))
                {
                    return run;
                }

                Assert.True(DateTime.UtcNow < deadline, "another demo kept running for 10 minutes");
                output.WriteLine("another demo is running: waiting for it");
                Thread.Sleep(5_000);
            }
        }

        /// <summary>Waits until this run printed <paramref name="text"/> (files of the state folder may be an earlier run's).</summary>
        public void WaitForLog(string text) =>
            Poll.Until(() => Log().Contains(text, StringComparison.Ordinal), $"the demo to print '{text}'", Log, TimeSpan.FromSeconds(180));

        /// <summary>The demo's InfluxDB URL once it started.</summary>
        public string WaitForInfluxUrl()
        {
            WaitForLog("starting InfluxDB on ");
            var line = Log().Split('\n').First(l => l.Contains("starting InfluxDB on ", StringComparison.Ordinal));
            var address = line[(line.IndexOf("starting InfluxDB on ", StringComparison.Ordinal) + "starting InfluxDB on ".Length)..].Split(' ')[0];
            return "http://" + address;
        }

        public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

        public string Log() => File.Exists(_log) ? File.ReadAllText(_log) : "";

        /// <summary>What <c>run.sh --down</c> does: no namespaces, links, bridge or demo processes left.</summary>
        public static void TearDown() => KernelTest.Run("bash", Path.Combine(RepositoryPaths.Root, "samples", "demo", "run.sh"), "--down");

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _ = Process.Start("kill", ["-TERM", "--", $"-{_process.Id}"]);
                if (!_process.WaitForExit(TimeSpan.FromSeconds(60)))
                {
                    _process.Kill(entireProcessTree: true);
                }
            }

            _process.Dispose();
            File.Delete(_log);
        }
    }
}
