using System.Runtime.Loader;
using Kubebpf.Agent.Plugins;
using Kubebpf.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Agent.Tests;

/// <summary>SemVer between host and plugins: a plugin built against a newer SDK major is refused before it is loaded.</summary>
public sealed class PluginVersionTests : IDisposable
{
    private readonly string _pluginRoot = Directory.CreateTempSubdirectory("kubebpf-plugins-").FullName;

    [Fact]
    public async Task A_plugin_built_against_a_newer_sdk_major_is_refused_naming_both_versions()
    {
        // Kubebpf.FutureSdkPlugin was compiled against Kubebpf.FutureSdk, an assembly named Kubebpf.Sdk at version 99.0.0.
        var folder = Directory.CreateDirectory(Path.Combine(_pluginRoot, "Kubebpf.FutureSdkPlugin")).FullName;
        var built = Path.Combine(RepositoryPaths.BuildOutput("Kubebpf.FutureSdkPlugin"), "Kubebpf.FutureSdkPlugin.dll");
        File.Copy(built, Path.Combine(folder, "Kubebpf.FutureSdkPlugin.dll"));
        var settings = new Dictionary<string, string?>
        {
            ["Agent:PluginDirectories:0"] = _pluginRoot,
            ["Agent:CheckKernel"] = "false",
            ["Plugins:Future:Plugin"] = "FutureSdkPlugin",
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        await using var runtime = new AgentRuntime(configuration, AgentConfiguration.Options(configuration), NullLoggerFactory.Instance, TimeProvider.System, AppContext.BaseDirectory);

        runtime.Build();

        var instance = Assert.Single(runtime.Instances);
        Assert.Equal(PluginState.Failed, instance.State);
        var host = PluginFactory.HostSdkVersion;
        Assert.Equal(
            $"loading: PluginVersionException: Kubebpf.FutureSdkPlugin.dll was built against Kubebpf.Sdk 99.0.0, but this agent has Kubebpf.Sdk {host.ToString(3)}: " +
            $"a newer major version is not supported. Upgrade the agent to SDK 99.x, or build the plugin against Kubebpf.Sdk {host.Major}.x.",
            instance.Error);
        Assert.DoesNotContain(AssemblyLoadContext.All.SelectMany(c => c.Assemblies), a => a.GetName().Name == "Kubebpf.FutureSdkPlugin");
    }

    [Fact]
    public void The_sdk_version_a_plugin_references_is_read_from_its_metadata()
    {
        var faulty = Path.Combine(RepositoryPaths.BuildOutput("Kubebpf.FaultyPlugin"), "Kubebpf.FaultyPlugin.dll");
        var future = Path.Combine(RepositoryPaths.BuildOutput("Kubebpf.FutureSdkPlugin"), "Kubebpf.FutureSdkPlugin.dll");

        Assert.Equal(PluginFactory.HostSdkVersion, PluginFactory.ReferencedSdkVersion(faulty));
        Assert.Equal(new Version(99, 0, 0, 0), PluginFactory.ReferencedSdkVersion(future));
        Assert.Null(PluginFactory.ReferencedSdkVersion(typeof(Xunit.FactAttribute).Assembly.Location));
    }

    [Theory]
    [InlineData("1.4.0", "1.4.0")]
    [InlineData("1.0.0", "1.4.0")]
    [InlineData("1.9.0", "1.4.0")] // a newer minor of the same major: additive by SemVer, allowed
    [InlineData("0.3.0", "2.0.0")]
    [InlineData(null, "1.4.0")]
    public void Older_or_equal_majors_are_accepted(string? plugin, string host) =>
        PluginFactory.CheckSdkVersion("p.dll", plugin is null ? null : Version.Parse(plugin), Version.Parse(host));

    [Fact]
    public void A_newer_major_is_refused()
    {
        var error = Assert.Throws<PluginVersionException>(() => PluginFactory.CheckSdkVersion("p.dll", new Version(2, 0, 1), new Version(1, 4, 0)));

        Assert.Equal(
            "p.dll was built against Kubebpf.Sdk 2.0.1, but this agent has Kubebpf.Sdk 1.4.0: a newer major version is not supported. " +
            "Upgrade the agent to SDK 2.x, or build the plugin against Kubebpf.Sdk 1.x.",
            error.Message);
    }

    public void Dispose() => Directory.Delete(_pluginRoot, recursive: true);
}
