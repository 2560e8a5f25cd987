using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;

namespace Kubebpf.Testing;

/// <summary>
/// A real server binary run by a test fixture: its own temporary folder, its output appended to a log there, started
/// (again) until a readiness URL answers, stopped with SIGTERM and then SIGKILL. The folder and its data outlive a
/// stop, so an outage test can start the server again on the same data.
/// </summary>
internal sealed partial class LocalServer : IDisposable
{
    private const int SigTerm = 15;
    private readonly string _name;
    private readonly TimeSpan _stopGrace;
    private Process? _process;

    /// <param name="name">The binary's name, looked up on PATH, e.g. <c>influxd</c>.</param>
    /// <param name="package">The Debian package that provides it, named in the error when it is missing.</param>
    /// <param name="stopGrace">How long a SIGTERM may take before SIGKILL.</param>
    public LocalServer(string name, string package, TimeSpan stopGrace)
    {
        _name = name;
        _stopGrace = stopGrace;
        Executable = FindOnPath(name) ?? throw new InvalidOperationException(
            $"{name} is not installed: apt-get install {package} (./build.sh installs it). Tests with real servers never skip.");
        Directory = Path.Combine(Path.GetTempPath(), $"kubebpf-{name}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The server's binary.</summary>
    public string Executable { get; }

    /// <summary>The server's own folder (configuration, data, log).</summary>
    public string Directory { get; }

    private string LogPath => Path.Combine(Directory, _name + ".log");

    /// <summary>
    /// Runs <paramref name="arguments"/> (already quoted for <c>/bin/sh</c>) unless the server still runs, then polls
    /// <paramref name="ready"/> until it answers <paramref name="readyStatus"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server exited or was not ready in time (its log is in the message).</exception>
    public async Task StartAsync(string arguments, HttpClient http, Uri ready, HttpStatusCode readyStatus, TimeSpan timeout)
    {
        if (_process is { HasExited: false })
        {
            return;
        }

        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec '{Executable}' {arguments} >>'{LogPath}' 2>&1");
        _process = Process.Start(start)!;

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{_name} exited with code {_process.ExitCode}:\n{LogTail()}");
            }

            try
            {
                using var answer = await http.GetAsync(ready);
                if (answer.StatusCode == readyStatus)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        Stop();
        throw new InvalidOperationException($"{_name} was not ready ({ready.AbsolutePath}) within {timeout}:\n{LogTail()}");
    }

    /// <summary>Stops the server gracefully (SIGTERM, SIGKILL after the grace period); its folder stays.</summary>
    public void Stop()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
            if (!_process.WaitForExit(_stopGrace))
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }

        _process.Dispose();
        _process = null;
    }

    /// <summary>The last 20 lines of the server's log.</summary>
    public string LogTail()
    {
        var lines = File.Exists(LogPath) ? File.ReadAllLines(LogPath) : [];
        return string.Join('\n', lines.TakeLast(20));
    }

    /// <summary>Stops the server and removes its folder.</summary>
    public void Dispose()
    {
        Stop();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort: the folder is in the temp dir
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
