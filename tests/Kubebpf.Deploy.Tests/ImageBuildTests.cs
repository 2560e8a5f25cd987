using Kubebpf.Testing;

namespace Kubebpf.Deploy.Tests;

/// <summary>deploy/Dockerfile and .dockerignore: what a build from a working tree may copy, and what it needs to be told.</summary>
public sealed class ImageBuildTests
{
    [Fact]
    public void The_build_context_leaves_out_build_outputs_history_and_tests()
    {
        var ignored = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, ".dockerignore")).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet();

        // A host-built .bpf.o under artifacts/ or obj/ would otherwise be reused silently by the image's build.
        Assert.Superset(new HashSet<string> { ".git", "artifacts", "**/bin", "**/obj", "**/TestResults", "tests" }, ignored);
    }

    [Fact]
    public void Every_build_argument_has_a_default()
    {
        var arguments = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "deploy", "Dockerfile")).Where(l => l.StartsWith("ARG ", StringComparison.Ordinal)).ToList();

        Assert.Equal(["SDK_IMAGE", "RUNTIME_IMAGE"], arguments.Select(a => a[4..].Split('=')[0]));
        Assert.All(arguments, a => Assert.Matches(@"^ARG [A-Z_]+=\S+$", a));
    }
}
