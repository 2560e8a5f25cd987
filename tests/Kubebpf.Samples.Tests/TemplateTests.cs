namespace Kubebpf.Samples.Tests;

[Collection(OutOfTreeCollection.Name)]
public sealed class TemplateTests(OutOfTree outOfTree)
{
    [Fact]
    public void A_probe_made_with_the_template_builds_against_the_package_and_passes_its_tests()
    {
        // A private template hive: installing must not touch the user's templates.
        var hive = Path.Combine(outOfTree.Root, "template-hive");
        var project = Path.Combine(outOfTree.Root, "Acme.Forks");
        DotNet.Run(outOfTree.Root, "new", "install", outOfTree.TemplatePackage, "--debug:custom-hive", hive);
        // No --SdkVersion: the template defaults to the SDK packed beside it.
        DotNet.Run(outOfTree.Root, "new", "kubebpf-probe", "-n", "Acme.Forks", "-o", project, "--debug:custom-hive", hive);
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <configuration><packageSources><add key="local" value="{outOfTree.Packages}" /></packageSources></configuration>
            """);

        var test = DotNet.Run(project, "test", "tests/Acme.Forks.Tests", "-c", "Release");

        Assert.Contains("Passed!  - Failed:     0, Passed:     7, Skipped:     0, Total:     7", test, StringComparison.Ordinal);
        var output = Path.Combine(project, "src", "Acme.Forks", "bin", "Release", "net10.0");
        Assert.Equal(["Acme.Forks.deps.json", "Acme.Forks.dll", "Acme.Forks.pdb", "Acme.Forks.runtimeconfig.json"], Assemblies.Files(output));
        Assert.Equal(["forks.bpf.o"], Assemblies.EmbeddedResources(Path.Combine(output, "Acme.Forks.dll")));
        // The tests, unlike the plugin, run outside the agent and need the SDK beside them.
        Assert.True(File.Exists(Path.Combine(project, "tests", "Acme.Forks.Tests", "bin", "Release", "net10.0", "Kubebpf.Sdk.dll")));
    }
}
