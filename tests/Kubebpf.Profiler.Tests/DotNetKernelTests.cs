using Kubebpf.Profiler.Attribution;
using Kubebpf.Profiler.Tests.Workloads;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Profiler.Tests;

/// <summary>JIT-compiled .NET code is named from the perf map the runtime writes with <c>DOTNET_PerfMapEnabled</c>.</summary>
[Trait("Category", "Kernel")]
[Collection("profiler kernel")]
public sealed class DotNetKernelTests(ITestOutputHelper log)
{
    [Fact]
    public async Task A_jitted_method_of_a_dotnet_process_appears_by_name()
    {
        KernelTest.RequireRoot();
        var exe = CopySpinner();
        var command = Path.GetFileName(exe);
        await using var profiler = ProfilerRun.Start(new ProfilerOptions
        {
            Interval = TimeSpan.FromHours(1), ReadInterval = TimeSpan.FromSeconds(2), Processes = [command],
        });
        int pid;
        using (var spinner = Workload.Start(cpu: null, new Dictionary<string, string> { ["DOTNET_PerfMapEnabled"] = "1" }, exe, "8"))
        {
            pid = spinner.Pid;
            Assert.StartsWith("done", spinner.ReadLine(TimeSpan.FromSeconds(60)), StringComparison.Ordinal);
            // Stop while the process still runs: its perf map is read at the last drain.
            var rows = FlameRows.Of(await profiler.StopAsync(), ProfileOwner.HostPod);

            FlameRows.AssertConsistent(rows);
            var total = FlameRows.Process(rows, command);
            var spin = rows.Where(r => r.Label.Contains("Spinner::SpinHot", StringComparison.Ordinal) || r.Label.Contains("Spinner.SpinHot", StringComparison.Ordinal)).ToList();
            log.WriteLine($"{total} samples of {command}; SpinHot rows: {string.Join(" | ", spin.Select(r => $"{r.Label} value {r.Value} self {r.Self}"))}");
            log.WriteLine($"unresolved user frames {profiler.Metrics.Value("unresolved_user_frames")}, perf map lines dropped {profiler.Metrics.Value("perfmap_dropped")}");
            Assert.True(total > 0, $"no sample of {command}");
            Assert.True(spin.Sum(r => r.Self) >= 0.5 * total, $"SpinHot holds {spin.Sum(r => r.Self)} of {total} samples:\n{string.Join('\n', rows.Take(40).Select(r => $"{r.Level} {r.Label} {r.Value} {r.Self}"))}");
        }

        foreach (var file in new[] { $"/tmp/perf-{pid}.map", $"/tmp/jit-{pid}.dump", $"/tmp/perfinfo-{pid}.map" })
        {
            File.Delete(file);
        }
    }

    /// <summary>The spinner's files in a fresh folder, its app host renamed uniquely (that name is the process' command).</summary>
    private static string CopySpinner()
    {
        var directory = Directory.CreateTempSubdirectory("kubebpf-spinner-").FullName;
        const string Name = "Kubebpf.Profiler.Spinner";
        foreach (var file in Directory.GetFiles(AppContext.BaseDirectory, Name + ".*"))
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        }

        var exe = Path.Combine(directory, "spin" + Guid.NewGuid().ToString("N")[..8]);
        File.Copy(Path.Combine(AppContext.BaseDirectory, Name), exe); // keeps the execute permission
        return exe;
    }
}
