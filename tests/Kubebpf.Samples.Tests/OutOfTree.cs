using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;

namespace Kubebpf.Samples.Tests;

/// <summary>
/// Packs the SDK and the template once per run into a scratch folder laid out like the repository
/// (<c>artifacts/packages</c>, <c>samples/</c>), so the samples' own nuget.config finds the package as it does in a checkout.
/// The package gets a version unique to the run: NuGet caches a version forever, so reusing one would test a stale SDK.
/// </summary>
public sealed class OutOfTree : IDisposable
{
    private readonly Lazy<string> _dropIn;

    public OutOfTree()
    {
        Root = Directory.CreateTempSubdirectory("kubebpf-out-of-tree-").FullName;
        Packages = Directory.CreateDirectory(Path.Combine(Root, "artifacts", "packages")).FullName;
        SdkVersion = $"{typeof(IPlugin).Assembly.GetName().Version!.ToString(3)}-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        try
        {
            DotNet.Run(RepositoryPaths.Root, "pack", "plugin-sdk/Kubebpf.Sdk/Kubebpf.Sdk.csproj", "-c", Configuration, "--no-build",
                $"-p:PackageVersion={SdkVersion}", "-o", Packages);
            DotNet.Run(RepositoryPaths.Root, "pack", "plugin-sdk/templates/Kubebpf.Templates.csproj", "-c", Configuration,
                $"-p:PackageVersion={SdkVersion}", "-o", Packages);
        }
        catch
        {
            Directory.Delete(Root, recursive: true); // xunit does not dispose a fixture whose constructor failed
            throw;
        }

        _dropIn = new Lazy<string>(PublishSamples);
    }

    /// <summary>The scratch folder; stands in for a checkout of the repository.</summary>
    public string Root { get; }

    /// <summary>The local package source holding Kubebpf.Sdk and Kubebpf.Templates.</summary>
    public string Packages { get; }

    /// <summary>The version the SDK was packed with in this run.</summary>
    public string SdkVersion { get; }

    public string SdkPackage => Path.Combine(Packages, $"Kubebpf.Sdk.{SdkVersion}.nupkg");

    public string TemplatePackage => Path.Combine(Packages, $"Kubebpf.Templates.{SdkVersion}.nupkg");

    /// <summary>A plugin drop-in folder with every sample plugin published into it (built once, on first use).</summary>
    public string DropIn => _dropIn.Value;

    /// <summary>The configuration the tests were built in: the packed SDK must be the one they run against.</summary>
    private static string Configuration => new DirectoryInfo(AppContext.BaseDirectory).Name.Equals("debug", StringComparison.OrdinalIgnoreCase) ? "Debug" : "Release";

    /// <summary>The copy of a sample (under <see cref="Root"/>) that <see cref="DropIn"/> was published from.</summary>
    public string Sample(string name)
    {
        _ = DropIn;
        return Path.Combine(Root, "samples", name);
    }

    private string PublishSamples()
    {
        var dropIn = Directory.CreateDirectory(Path.Combine(Root, "plugins")).FullName;
        // Each sample with the folder of its plugin project: RedisParser keeps its tests beside it (src/, tests/).
        foreach (var (sample, project) in new[] { ("ExecProbe", "."), ("JsonLinesSink", "."), ("RedisParser", "src/RedisParser") })
        {
            var source = Path.Combine(Root, "samples", sample);
            CopyDirectory(Path.Combine(RepositoryPaths.Root, "samples", sample), source);
            DotNet.Run(Path.Combine(source, project), "publish", "-c", "Release", $"-p:KubebpfSdkVersion={SdkVersion}", "-o", Path.Combine(dropIn, sample));
        }

        return dropIn;
    }

    internal static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            {
                continue;
            }

            var target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public void Dispose()
    {
        Directory.Delete(Root, recursive: true);
        // This run's SDK version is in the NuGet cache now; nothing else will ever use it.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages
            ? packages
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var cached = Path.Combine(cache, "kubebpf.sdk", SdkVersion.ToLowerInvariant());
        if (Directory.Exists(cached))
        {
            Directory.Delete(cached, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class OutOfTreeCollection : ICollectionFixture<OutOfTree>
{
    public const string Name = "out of tree";
}
