using System.IO.Compression;
using System.Xml.Linq;

namespace Kubebpf.Samples.Tests;

[Collection(OutOfTreeCollection.Name)]
public sealed class PackageTests(OutOfTree outOfTree)
{
    [Fact]
    public void The_sdk_package_holds_the_assembly_its_docs_the_author_guide_and_the_plugin_build_logic()
    {
        using var package = ZipFile.OpenRead(outOfTree.SdkPackage);
        var content = package.Entries.Select(e => e.FullName)
            .Where(name => !name.StartsWith("_rels/", StringComparison.Ordinal) && !name.StartsWith("package/", StringComparison.Ordinal)
                && name != "[Content_Types].xml")
            .Order(StringComparer.Ordinal);

        Assert.Equal(
            [
                "Kubebpf.Sdk.nuspec",
                "README.md",
                "build/Kubebpf.Sdk.Bpf.targets",
                "build/Kubebpf.Sdk.HostPackages.props",
                "build/Kubebpf.Sdk.props",
                "build/Kubebpf.Sdk.targets",
                "lib/net10.0/Kubebpf.Sdk.dll",
                "lib/net10.0/Kubebpf.Sdk.xml",
            ],
            content);
    }

    [Fact]
    public void The_nuspec_names_the_package_its_version_and_its_readme()
    {
        using var package = ZipFile.OpenRead(outOfTree.SdkPackage);
        using var nuspec = package.GetEntry("Kubebpf.Sdk.nuspec")!.Open();
        var metadata = XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Value(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;

        Assert.Equal("Kubebpf.Sdk", Value("id"));
        Assert.Equal(outOfTree.SdkVersion, Value("version"));
        Assert.Equal("README.md", Value("readme"));
    }

    [Fact]
    public void The_template_defaults_to_the_sdk_version_packed_with_it_and_the_template_package_has_a_readme()
    {
        using var package = ZipFile.OpenRead(outOfTree.TemplatePackage);
        using var templateJson = package.GetEntry("content/probe/.template.config/template.json")!.Open();
        using var template = System.Text.Json.JsonDocument.Parse(templateJson);
        using var nuspec = package.GetEntry("Kubebpf.Templates.nuspec")!.Open();
        var metadata = XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");

        Assert.Equal(
            outOfTree.SdkVersion,
            template.RootElement.GetProperty("symbols").GetProperty("SdkVersion").GetProperty("defaultValue").GetString());
        Assert.Equal("README.md", metadata.Elements().Single(e => e.Name.LocalName == "readme").Value);
        Assert.NotNull(package.GetEntry("README.md"));
    }
}
