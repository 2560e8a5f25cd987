using System.Runtime.Versioning;
using Kubebpf.Agent.Plugins;
using Kubebpf.Testing;

namespace Kubebpf.Agent.Tests;

/// <summary>
/// As root, plugins load only from folders no other user can change: a group- or other-writable or non-root-owned
/// plugin root, plugin folder, file, or folder above the root is refused, naming the path, its mode or owner and the fix.
/// These tests run as root (as the agent does); they fail, never skip, without it.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class PluginFolderTrustTests : IDisposable
{
    private const string Plugin = "Kubebpf.FaultyPlugin";
    private const int Nobody = 65534;
    private readonly string _parent = Directory.CreateTempSubdirectory("kubebpf-trust-").FullName;

    public PluginFolderTrustTests()
    {
        Assert.True(PluginFolderTrust.Applies, "the plugin folder checks apply to root: run these tests as root");
        var target = Directory.CreateDirectory(Path.Combine(Root, Plugin, "runtimes")).Parent!.FullName;
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.BuildOutput(Plugin)))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    private string Root => Path.Combine(_parent, "plugins");

    private string PluginFolder => Path.Combine(Root, Plugin);

    private string PluginAssembly => Path.Combine(PluginFolder, Plugin + ".dll");

    [Fact]
    public void A_folder_only_root_can_change_loads()
    {
        Assert.Equal([Plugin], PluginCatalog.Discover([Root], "/").Select(p => p.Name));
    }

    [Fact]
    public void A_group_writable_plugin_root_is_refused()
    {
        Chmod(Root, "775");

        AssertRefused(Root, "is writable by its group (mode 0775)", $"chmod go-w '{Root}'");
    }

    [Fact]
    public void An_other_writable_plugin_folder_is_refused()
    {
        Chmod(PluginFolder, "757");

        AssertRefused(PluginFolder, "is writable by others (mode 0757)", $"chmod go-w '{PluginFolder}'");
    }

    [Fact]
    public void A_writable_plugin_file_is_refused()
    {
        Chmod(PluginAssembly, "666");

        AssertRefused(PluginAssembly, "is writable by its group and others (mode 0666)", $"chmod go-w '{PluginAssembly}'");
    }

    [Fact]
    public void A_file_owned_by_another_user_deep_in_a_plugin_folder_is_refused()
    {
        var file = Path.Combine(PluginFolder, "runtimes", "native.so");
        File.WriteAllBytes(file, [0]);
        Chown(file, Nobody);

        AssertRefused(file, $"is owned by uid {Nobody}, not root", $"chown root '{file}'");
    }

    [Fact]
    public void A_plugin_root_owned_by_another_user_is_refused()
    {
        Chown(Root, Nobody);

        AssertRefused(Root, $"is owned by uid {Nobody}, not root", $"chown root '{Root}'");
    }

    [Fact]
    public void A_writable_folder_above_the_root_is_refused_unless_sticky()
    {
        Chmod(_parent, "777");
        AssertRefused(_parent, "is writable by its group and others (mode 0777)", $"chmod go-w '{_parent}'");

        Chmod(_parent, "1777"); // like /tmp: only an entry's owner may rename or remove it
        Assert.Equal([Plugin], PluginCatalog.Discover([Root], "/").Select(p => p.Name));
    }

    private void AssertRefused(string path, string problem, string fix)
    {
        var error = Assert.Throws<ConfigurationException>(() => PluginCatalog.Discover([Root], "/"));

        Assert.Equal(
            $"plugin folder {Root} cannot be trusted: {path} {problem}, so a user other than root could change the code the agent "
            + $"would run as root. Fix: {fix} (for a whole plugin folder: chown -R root: '{Root}' && chmod -R go-w '{Root}').",
            error.Message);
    }

    private static void Chmod(string path, string octal) =>
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(octal, 8));

    private static void Chown(string path, int uid)
    {
        using var process = System.Diagnostics.Process.Start("chown", [uid.ToString(System.Globalization.CultureInfo.InvariantCulture), path]);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    public void Dispose()
    {
        Chmod(_parent, "700");
        Directory.Delete(_parent, recursive: true);
    }
}
