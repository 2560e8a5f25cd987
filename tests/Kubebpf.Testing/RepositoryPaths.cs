using System.Runtime.CompilerServices;

namespace Kubebpf.Testing;

/// <summary>Where the repository and the published agent are, found from the test assembly's location.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>Build output: <c>artifacts/</c>, or <c>KUBEBPF_ARTIFACTS</c> when set (as for the build).</summary>
    public static string Artifacts => Environment.GetEnvironmentVariable("KUBEBPF_ARTIFACTS") is { Length: > 0 } moved
        ? Path.GetFullPath(moved)
        : Path.Combine(Root, "artifacts");

    /// <summary>The agent as <c>./build.sh --target=Publish</c> lays it out.</summary>
    public static string PublishedAgent => Path.Combine(Artifacts, "agent");

    /// <summary>A project's build output folder for the configuration the tests were built in.</summary>
    public static string BuildOutput(string project) =>
        Path.Combine(Artifacts, "bin", project, new DirectoryInfo(AppContext.BaseDirectory).Name);

    // Above the test assembly, or (when KUBEBPF_ARTIFACTS put the build output outside the tree) above this source file.
    private static string FindRoot([CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) ?? "" })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "kubebpf.slnx")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException($"No kubebpf.slnx above {AppContext.BaseDirectory}: run the tests from the repository.");
    }
}
