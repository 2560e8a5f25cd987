using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kubebpf.Testing;

namespace Kubebpf.Fuzz;

/// <summary>
/// A bounded fuzzing run: copies this program's folder, instruments the parser assemblies in the copy with SharpFuzz
/// (the <c>sharpfuzz</c> .NET tool of the repository's tool manifest), then runs AFL++'s <c>afl-fuzz</c> on each target
/// for the given time from its seed corpus. Prints the inputs run and the findings per target; every crashing or hanging
/// input is copied to <c>&lt;output&gt;/findings/&lt;target&gt;/</c> and printed. Exit code 1 when anything was found.
/// </summary>
internal static class AflRunner
{
    /// <summary>The assemblies whose code the fuzzer measures coverage of: every parser, and the capture.</summary>
    private static readonly string[] Instrumented =
        ["Kubebpf.Http.dll", "Kubebpf.Dns.dll", "Kubebpf.MySql.dll", "Kubebpf.Capture.dll", "Kubebpf.Fuzz.Redis.dll"];

    /// <summary>An input running longer than this is a hang (the process is JIT-warm after the first input).</summary>
    private const int HangMilliseconds = 5000;

    public static int Run(RunOptions options)
    {
        if (Directory.Exists(options.Output))
        {
            Directory.Delete(options.Output, recursive: true);
        }

        var bin = Path.Combine(options.Output, "bin");
        CopyDirectory(AppContext.BaseDirectory, bin);
        foreach (var assembly in Instrumented)
        {
            Execute("dotnet", ["tool", "run", "sharpfuzz", Path.Combine(bin, assembly)], RepositoryPaths.Root);
        }

        var findings = 0;
        var failed = new List<string>();
        foreach (var target in options.Targets)
        {
            var found = FuzzTarget(options, bin, target);
            if (found < 0)
            {
                failed.Add(target);
            }
            else
            {
                findings += found;
            }
        }

        Console.WriteLine(findings == 0 ? "fuzz: no finding" : $"fuzz: {findings} findings, inputs saved under {Path.Combine(options.Output, "findings")}");
        if (failed.Count > 0)
        {
            Console.WriteLine($"fuzz: afl-fuzz could not fuzz {string.Join(", ", failed)}");
        }

        return findings == 0 && failed.Count == 0 ? 0 : 1;
    }

    /// <summary>Fuzzes one target; the number of findings, or -1 when afl-fuzz could not run it.</summary>
    private static int FuzzTarget(RunOptions options, string bin, string target)
    {
        var output = Path.Combine(options.Output, "afl", target);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var seeds = Path.Combine(bin, "corpus", target);
        var watch = Stopwatch.StartNew();
        var exit = Execute(
            "afl-fuzz",
            ["-i", seeds, "-o", output, "-V", options.DurationSeconds.ToString(CultureInfo.InvariantCulture), "-t", HangMilliseconds.ToString(CultureInfo.InvariantCulture),
             "-s", "1", "--", Environment.ProcessPath ?? "dotnet", Path.Combine(bin, "Kubebpf.Fuzz.dll"), target],
            bin,
            quiet: true,
            environment: new()
            {
                ["AFL_SKIP_BIN_CHECK"] = "1", // the target is dotnet; the coverage comes from the instrumented assemblies
                ["AFL_NO_UI"] = "1",
                ["AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES"] = "1",
                ["AFL_SKIP_CPUFREQ"] = "1",
                ["AFL_NO_AFFINITY"] = "1", // shared machines: no core of its own
                ["AFL_FORKSRV_INIT_TMOUT"] = "60000",
                ["AFL_TRY_AFFINITY"] = "0",
            },
            check: false);
        var stats = ReadStats(Path.Combine(output, "default", "fuzzer_stats"));
        if (exit != 0 || stats.Count == 0)
        {
            Console.WriteLine($"fuzz {target}: afl-fuzz exited with {exit} before fuzzing (see {output})");
            return -1;
        }

        var found = SaveFindings(options.Output, output, target);
        Console.WriteLine(
            $"fuzz {target}: {Stat(stats, "execs_done")} inputs in {watch.Elapsed.TotalSeconds:F0} s, " +
            $"{Stat(stats, "corpus_count", "paths_total")} in the corpus, {Stat(stats, "edges_found")} edges, {found} findings");
        return found;
    }

    /// <summary>Copies each crashing or hanging input to the findings folder and prints it.</summary>
    private static int SaveFindings(string root, string output, string target)
    {
        var count = 0;
        foreach (var kind in new[] { "crashes", "hangs" })
        {
            var folder = Path.Combine(output, "default", kind);
            if (!Directory.Exists(folder))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(folder).Where(f => !Path.GetFileName(f).StartsWith("README", StringComparison.Ordinal)))
            {
                var saved = Path.Combine(root, "findings", target, $"{kind}-{++count}");
                Directory.CreateDirectory(Path.GetDirectoryName(saved)!);
                File.Copy(file, saved);
                Console.WriteLine($"fuzz {target}: {kind[..^(kind == "crashes" ? 2 : 1)]} {saved}: {Printable(File.ReadAllBytes(saved))}");
                Console.WriteLine($"  replay: dotnet {Path.Combine(AppContext.BaseDirectory, "Kubebpf.Fuzz.dll")} replay {target} {saved}");
            }
        }

        return count;
    }

    /// <summary>The input as C# string escapes, cut to 2 KiB.</summary>
    private static string Printable(byte[] input)
    {
        var text = new StringBuilder("\"");
        foreach (var b in input.AsSpan(0, Math.Min(input.Length, 2048)))
        {
            text.Append(b switch
            {
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n",
                (byte)'"' => "\\\"",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7f => ((char)b).ToString(),
                _ => $"\\x{b:x2}",
            });
        }

        return text.Append('"').Append(input.Length > 2048 ? $" ({input.Length} bytes)" : "").ToString();
    }

    private static Dictionary<string, string> ReadStats(string file) =>
        !File.Exists(file)
            ? []
            : File.ReadLines(file).Select(line => line.Split(':', 2)).Where(parts => parts.Length == 2)
                .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim());

    private static string Stat(Dictionary<string, string> stats, params string[] names) =>
        names.Select(n => stats.GetValueOrDefault(n)).FirstOrDefault(v => v is not null) ?? "?";

    private static void CopyDirectory(string source, string destination)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static int Execute(string file, string[] arguments, string workingDirectory, bool quiet = false, Dictionary<string, string>? environment = null, bool check = true)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = quiet, RedirectStandardError = quiet };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? [])
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var output = quiet ? process.StandardOutput.ReadToEndAsync() : Task.FromResult("");
        var errors = quiet ? process.StandardError.ReadToEndAsync() : Task.FromResult("");
        process.WaitForExit();
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {output.Result}{errors.Result}");
        }

        if (!check && process.ExitCode != 0)
        {
            Console.WriteLine(output.Result[Math.Max(0, output.Result.Length - 4000)..] + errors.Result);
        }

        return process.ExitCode;
    }
}
