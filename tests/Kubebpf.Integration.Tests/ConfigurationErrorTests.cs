using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// The published agent refuses a configuration it cannot honour: exit code 2 and one message that says what to fix.
/// Needs no root (nothing is attached), but the published agent.
/// </summary>
[Trait("Category", "Agent")]
public sealed class ConfigurationErrorTests : IDisposable
{
    private const int ConfigurationError = 2;
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);
    private readonly string _workDirectory = Directory.CreateTempSubdirectory("kubebpf-config-").FullName;

    [Fact]
    public async Task An_instance_naming_an_unknown_plugin_stops_the_agent_naming_the_plugins_found()
    {
        var published = Path.Combine(RepositoryPaths.PublishedAgent, "plugins");
        using var agent = AgentProcess.Start(
            new
            {
                Agent = new { PluginDirectories = (string[])[published] },
                Plugins = new { Red = new { }, Typo = new { Plugin = "Kubebpf.Htpp" } },
            },
            _workDirectory);

        Assert.Equal(ConfigurationError, await agent.WaitForExitAsync(ExitTimeout));
        Assert.Contains(
            "kubebpf: configuration error: Plugins:Typo: no plugin folder named 'Kubebpf.Htpp'", agent.StandardError, StringComparison.Ordinal);
        var found = Directory.EnumerateDirectories(published).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Contains($"(found: {string.Join(", ", found)})", agent.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Hosting failed to start", agent.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_json_stops_the_agent_naming_the_file()
    {
        using var agent = AgentProcess.StartWithConfigText("""{ "Plugins": { "Red": { }, } """, _workDirectory);

        Assert.Equal(ConfigurationError, await agent.WaitForExitAsync(ExitTimeout));
        var error = agent.StandardError.Trim();
        Assert.StartsWith("kubebpf: configuration error: ", error, StringComparison.Ordinal);
        Assert.Contains($"'{Path.Combine(_workDirectory, "kubebpf.json")}'", error, StringComparison.Ordinal);
        Assert.Contains("Could not parse the JSON file", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error); // one message, no stack trace
    }

    [Fact]
    public async Task A_plugin_folder_other_users_can_write_stops_the_agent_naming_the_folder_and_the_fix()
    {
        var untrusted = Directory.CreateDirectory(Path.Combine(_workDirectory, "plugins")).FullName;
        KernelTest.Run("chmod", "777", untrusted);
        using var agent = AgentProcess.Start(
            new
            {
                Agent = new { PluginDirectories = (string[])[untrusted, Path.Combine(RepositoryPaths.PublishedAgent, "plugins")] },
                Plugins = new { Red = new { } },
            },
            _workDirectory);

        Assert.Equal(ConfigurationError, await agent.WaitForExitAsync(ExitTimeout));
        Assert.Contains(
            $"kubebpf: configuration error: plugin folder {untrusted} cannot be trusted: {untrusted} is writable by its group and others (mode 0777)",
            agent.StandardError,
            StringComparison.Ordinal);
        Assert.Contains($"Fix: chmod go-w '{untrusted}'", agent.StandardError, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_workDirectory, recursive: true);
}
