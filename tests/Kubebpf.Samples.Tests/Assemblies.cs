using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Kubebpf.Samples.Tests;

internal static class Assemblies
{
    /// <summary>The names of the resources embedded in an assembly, read without loading it.</summary>
    public static IReadOnlyList<string> EmbeddedResources(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var metadata = pe.GetMetadataReader();
        return [.. metadata.ManifestResources.Select(h => metadata.GetString(metadata.GetManifestResource(h).Name)).Order(StringComparer.Ordinal)];
    }

    /// <summary>The file names in a folder, sorted.</summary>
    public static IReadOnlyList<string> Files(string folder) =>
        [.. Directory.EnumerateFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
}
