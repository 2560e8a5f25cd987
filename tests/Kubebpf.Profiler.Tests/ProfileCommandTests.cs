using System.Xml.Linq;
using Kubebpf.Profiler.Profiles;
using Kubebpf.Profiler.Tests.Workloads;
using Kubebpf.Testing;

namespace Kubebpf.Profiler.Tests;

/// <summary><c>kubebpf profile</c>: one command records and writes an SVG flame graph and collapsed stacks.</summary>
[Trait("Category", "Kernel")]
[Collection("profiler kernel")]
public sealed class ProfileCommandTests
{
    [Fact]
    public void One_command_writes_an_svg_flame_graph_and_collapsed_stacks_of_a_process()
    {
        KernelTest.RequireRoot();
        var exe = Workload.CompileCpuHog();
        var directory = Path.GetDirectoryName(exe)!;
        var command = Path.GetFileName(exe);
        var svg = Path.Combine(directory, "flame.svg");
        var collapsed = Path.Combine(directory, "flame.txt");
        using (var hog = Workload.Start(cpu: null, environment: null, exe, "30"))
        {
            var output = KernelTest.Run(Path.Combine(RepositoryPaths.PublishedAgent, "kubebpf"),
                "profile", "--duration", "00:00:04", "--process", command, "-o", svg, "--collapsed", collapsed,
                "--set", "Agent:PluginDirectories:0=" + Path.Combine(RepositoryPaths.PublishedAgent, "plugins"));
            Assert.Contains(svg, output, StringComparison.Ordinal);
        }

        XNamespace ns = "http://www.w3.org/2000/svg";
        var titles = XDocument.Load(svg).Descendants(ns + "title").Select(t => t.Value).ToList();
        Assert.Contains(titles, t => t.StartsWith("hot_a (", StringComparison.Ordinal));
        Assert.Contains(titles, t => t.StartsWith("hot_b (", StringComparison.Ordinal));
        var stacks = CollapsedStacks.Parse(new StringReader(File.ReadAllText(collapsed)));
        Assert.All(stacks.Keys, s => Assert.StartsWith($"host;{command};", s + ";", StringComparison.Ordinal));
        Assert.Contains(stacks, s => s.Key.EndsWith(";main;hot_a", StringComparison.Ordinal) && s.Value > 0);
        Directory.Delete(directory, recursive: true);
    }
}
