using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Kubebpf.Testing;

/// <summary>Helpers for tests that need the kernel: they fail, never skip, when the machine cannot run them.</summary>
public static class KernelTest
{
    /// <summary>Fails the test with a clear message unless running as root.</summary>
    public static void RequireRoot()
    {
        var uid = Run("id", "-u").Trim();
        Assert.True(uid == "0", $"Kernel tests must run as root (uid {uid}): run 'sudo dotnet test --filter Category=Kernel'.");
    }

    /// <summary>The repository root (the folder holding kubebpf.slnx).</summary>
    public static string RepositoryRoot => RepositoryPaths.Root;

    /// <summary>Compiles a BPF C source with clang into a temp .o file and returns its path.</summary>
    public static string CompileBpf(string source)
    {
        var directory = Directory.CreateTempSubdirectory("kubebpf-test-").FullName;
        var c = Path.Combine(directory, "test.bpf.c");
        var o = Path.Combine(directory, "test.bpf.o");
        File.WriteAllText(c, source);
        var multiarch = Run("gcc", "-print-multiarch").Trim();
        Run("clang", "-O2", "-g", "-target", "bpf", $"-I/usr/include/{multiarch}", "-c", c, "-o", o);
        return o;
    }

    /// <summary>Runs a program and returns its standard output; throws with its standard error when it fails.</summary>
    public static string Run(string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var errorTask = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}: {errorTask.Result}");
        }

        return output;
    }

    /// <summary>
    /// Runs <paramref name="start"/> (its output redirected here) to its end and returns its exit code with its standard
    /// output and error together; fails the test when it outlives <paramref name="timeout"/>.
    /// </summary>
    public static (int ExitCode, string Output) RunToEnd(ProcessStartInfo start, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not end within {timeout}: {output.Result}{error.Result}");
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result);
    }
}

/// <summary>A logger that keeps every message.</summary>
public sealed class ListLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception)));
        }
    }
}
