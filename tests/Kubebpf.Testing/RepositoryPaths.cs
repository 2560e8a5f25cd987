namespace Kubebpf.Testing;

/// <summary>Where the repository and the published agent are, found from the test assembly's location.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The agent as <c>./build.sh --target=Publish</c> lays it out.</summary>
    public static string PublishedAgent => Path.Combine(Root, "artifacts", "agent");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "kubebpf.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No kubebpf.slnx above {AppContext.BaseDirectory}: run the tests from the repository.");
    }
}
