using Kubebpf.Testing;

namespace Kubebpf.Kubernetes.Tests;

/// <summary>The published plugin folder holds the client library and none of the assemblies the host provides.</summary>
public sealed class PluginFolderTests
{
    [Fact]
    public void The_plugin_folder_holds_KubernetesClient_and_its_dependencies_but_no_host_assembly()
    {
        var folder = Path.Combine(RepositoryPaths.PublishedAgent, "plugins", "Kubebpf.Kubernetes");
        var assemblies = Directory.GetFiles(folder, "*.dll").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(["Fractions.dll", "Kubebpf.Kubernetes.dll", "KubernetesClient.dll", "YamlDotNet.dll"], assemblies);
    }
}
