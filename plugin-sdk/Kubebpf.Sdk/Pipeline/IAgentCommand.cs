namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// A command a plugin adds to the command line: <c>kubebpf &lt;Name&gt; [arguments]</c> (<c>kubebpf map</c>, say). It
/// runs in the command's own process, with the plugin instance built from the same configuration as the agent's but
/// not started: it reads what a running agent left (a file, a socket) or asks a server, and prints. Register it in
/// <see cref="IPlugin.ConfigureServices"/>; <c>kubebpf plugins</c> lists it.
/// </summary>
public interface IAgentCommand
{
    /// <summary>The command's name: a lower-case word no other command has.</summary>
    string Name { get; }

    /// <summary>One line for <c>kubebpf plugins</c>, naming the arguments.</summary>
    string Description { get; }

    /// <summary>
    /// Runs the command with the arguments after its name (<c>--config</c> and <c>--set</c> already taken by the host)
    /// and returns the exit code. Writes to <paramref name="output"/>; called once, on the main thread.
    /// </summary>
    Task<int> RunAsync(IReadOnlyList<string> arguments, TextWriter output, CancellationToken cancellationToken);
}
