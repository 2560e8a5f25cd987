using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Kubebpf.Testing;

/// <summary>
/// The published agent (<c>artifacts/agent/kubebpf</c>) run as a child process with a generated configuration,
/// stopped with SIGTERM as the kubelet or systemd stops it, so that shutdown flushes everything. Not SIGINT: a test
/// run started in the background of a non-interactive shell inherits SIGINT ignored, and .NET then keeps ignoring it.
/// </summary>
public sealed partial class AgentProcess : IDisposable
{
    private const int SigTerm = 15;
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly string _configPath;
    private readonly AgentContainer? _container;

    private AgentProcess(Process process, string configPath, AgentContainer? container)
    {
        _process = process;
        _configPath = configPath;
        _container = container;
    }

    public string StandardOutput
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The agent's process id.</summary>
    public int Id => _process.Id;

    /// <summary>
    /// Starts <c>kubebpf run</c> with <paramref name="configuration"/> serialised to a temporary JSON file: the published
    /// agent, or the agent image in <paramref name="container"/> (SIGTERM reaches the agent through podman).
    /// </summary>
    public static AgentProcess Start(object configuration, string workDirectory, AgentContainer? container = null) =>
        StartWithConfigText(JsonSerializer.Serialize(configuration, new JsonSerializerOptions { WriteIndented = true }), workDirectory, container);

    /// <summary>Starts <c>kubebpf run</c> with <paramref name="configurationText"/> as its configuration file, as is (e.g. invalid JSON).</summary>
    public static AgentProcess StartWithConfigText(string configurationText, string workDirectory, AgentContainer? container = null)
    {
        var executable = Path.Combine(RepositoryPaths.PublishedAgent, "kubebpf");
        if (container is null && !File.Exists(executable))
        {
            throw new InvalidOperationException($"{executable} is missing: run ./build.sh --target=Publish (the Test target does it).");
        }

        Directory.CreateDirectory(workDirectory);
        var configPath = Path.Combine(workDirectory, "kubebpf.json");
        File.WriteAllText(configPath, configurationText);
        string[] arguments = ["run", "--config", configPath];
        var start = container?.RunCommand(workDirectory, arguments) ?? new ProcessStartInfo(executable, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = start };
        var agent = new AgentProcess(process, configPath, container);
        process.OutputDataReceived += (_, e) => agent.Append(agent._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => agent.Append(agent._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return agent;
    }

    /// <summary>Waits until the agent's log contains <paramref name="text"/>; fails with the log when it exits or times out.</summary>
    public async Task WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (StandardError.Contains(text, StringComparison.Ordinal) || StandardOutput.Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The agent exited ({_process.ExitCode}) before logging '{text}':\n{StandardError}\n{StandardOutput}");
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The agent did not log '{text}' within {timeout}:\n{StandardError}\n{StandardOutput}");
    }

    /// <summary>Waits for the agent to exit on its own (e.g. after a configuration error); returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The agent did not exit within {timeout}:\n{StandardError}\n{StandardOutput}");
        }

        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM and waits for a clean exit; returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                throw new TimeoutException($"The agent did not stop within {timeout} of SIGTERM:\n{StandardError}");
            }
        }

        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    private void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (buffer)
        {
            buffer.AppendLine(line);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _container?.Remove();
        _process.Dispose();
        File.Delete(_configPath);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
