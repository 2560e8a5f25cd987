// Thin, linear build: Bpf -> Build -> Publish -> Image -> Test, Pack for the SDK package, and Benchmark (not run by CI).
// Run through ./build.sh, which installs the Debian packages and the .NET tools first.
using System.Xml.Linq;

var target = Argument("target", "Build");
var configuration = Argument("configuration", "Release");
var artifacts = MakeAbsolute(Directory(EnvironmentVariable("KUBEBPF_ARTIFACTS") ?? "artifacts"));
var agentDir = artifacts.Combine("agent");
var resultsDir = artifacts.Combine("test-results");

Task("Bpf")
    .Description("Checks the eBPF toolchain; each plugin's build compiles its own .bpf.c with clang and embeds the object.")
    .Does(() =>
{
    var exit = StartProcess("clang", new ProcessSettings { Arguments = "--version", RedirectStandardOutput = true });
    if (exit != 0) throw new Exception("clang is missing: ./build.sh installs clang, llvm and libbpf-dev.");
});

Task("Build")
    .IsDependentOn("Bpf")
    .Does(() =>
{
    DotNetBuild("kubebpf.slnx", new DotNetBuildSettings { Configuration = configuration });
});

Task("Publish")
    .Description("Lays the agent out as it ships: artifacts/agent/kubebpf and artifacts/agent/plugins/<Name>/<Name>.dll.")
    .IsDependentOn("Build")
    .Does(() =>
{
    CleanDirectory(agentDir);
    DotNetPublish("host/Kubebpf.Agent/Kubebpf.Agent.csproj", new DotNetPublishSettings
    {
        Configuration = configuration, NoBuild = true, OutputDirectory = agentDir,
    });
    foreach (var plugin in GetFiles("plugins/*/*.csproj"))
    {
        var name = plugin.GetFilenameWithoutExtension().ToString();
        DotNetPublish(plugin.FullPath, new DotNetPublishSettings
        {
            Configuration = configuration, NoBuild = true, OutputDirectory = agentDir.Combine("plugins").Combine(name),
        });
    }
});

Task("Image")
    .Description("Builds the agent image (deploy/Dockerfile) with podman from the sources, on local Debian 12 + .NET bases made with debootstrap "
        + "(deploy/image/bases.sh, once); --image=<name> names it (default localhost/kubebpf/agent:dev, which the image test runs).")
    .Does(() =>
{
    var image = Argument("image", "localhost/kubebpf/agent:dev");
    var watch = System.Diagnostics.Stopwatch.StartNew();
    var exit = StartProcess("deploy/image/build.sh", new ProcessSettings { Arguments = new ProcessArgumentBuilder().AppendQuoted(image) });
    if (exit != 0) throw new Exception($"deploy/image/build.sh failed (exit code {exit}): podman, buildah and debootstrap are needed (./build.sh installs them).");
    Information($"Image {image} built in {watch.Elapsed:mm\\:ss}.");
});

Task("Test")
    .Description("Unit and real-server tests, then the kernel tests (as root): those must all run; a skipped or missing kernel test fails the build.")
    .IsDependentOn("Publish")
    .IsDependentOn("Image")
    .Does(() =>
{
    CleanDirectory(resultsDir);
    var failures = new List<string>();
    // The ten-minute InfluxDB outage test mostly waits: it runs beside the passes below instead of after them.
    const string outageTest = "FullyQualifiedName~LongOutageTests";
    var outage = StartAndReturnProcess("dotnet", new ProcessSettings
    {
        Arguments = new ProcessArgumentBuilder()
            .Append("test").AppendQuoted("tests/Kubebpf.Integration.Tests/Kubebpf.Integration.Tests.csproj")
            .Append("--configuration").Append(configuration).Append("--no-build")
            .Append("--filter").AppendQuoted(outageTest)
            .Append("--results-directory").AppendQuoted(resultsDir.FullPath)
            .Append("--logger").AppendQuoted("trx;LogFileName=Kubebpf.Integration.Tests.outage.kernel.trx")
            .Append("--logger").AppendQuoted("console;verbosity=normal"),
    });
    foreach (var pass in new[] { ("standard", "Category!=Kernel"), ("kernel", "Category=Kernel") })
    {
        foreach (var project in GetFiles("tests/*.Tests/*.Tests.csproj"))
        {
            var name = project.GetFilenameWithoutExtension().ToString();
            try
            {
                DotNetTest(project.FullPath, new DotNetTestSettings
                {
                    Configuration = configuration,
                    NoBuild = true,
                    Filter = $"{pass.Item2}&{outageTest.Replace("~", "!~")}",
                    ResultsDirectory = resultsDir,
                    Loggers = { $"trx;LogFileName={name}.{pass.Item1}.trx", "console;verbosity=normal" },
                });
            }
            catch (Exception)
            {
                failures.Add($"{name} ({pass.Item1})");
            }
        }
    }

    outage.WaitForExit();
    if (outage.GetExitCode() != 0) failures.Add("Kubebpf.Integration.Tests (outage, kernel)");

    // Every parser fuzzed for a few seconds: a crash or a hang fails the build, its input saved and printed.
    if (Fuzz(seconds: 8) != 0) failures.Add("fuzzing");

    var totals = Summarise(resultsDir);
    // Plain console output (no colours), so that CI can read the closing line.
    Console.WriteLine();
    foreach (var pass in totals)
    {
        Console.WriteLine($"{pass.Key} tests - {pass.Value.Passed} passed, {pass.Value.Failed} failed, {pass.Value.Skipped} skipped");
    }
    var all = (Passed: totals.Values.Sum(t => t.Passed), Failed: totals.Values.Sum(t => t.Failed), Skipped: totals.Values.Sum(t => t.Skipped));
    Console.WriteLine($"Tests: {all.Passed} passed, {all.Failed} failed, {all.Skipped} skipped");

    if (failures.Count > 0) throw new Exception($"Test failures in: {string.Join(", ", failures)}");
    if (!totals.TryGetValue("kernel", out var kernel) || kernel.Passed == 0)
        throw new Exception("No kernel test ran: they need root (sudo ./build.sh --target=Test).");
    if (all.Skipped > 0) throw new Exception($"{all.Skipped} tests were skipped; none may be.");
});

Task("Fuzz")
    .Description("Coverage-guided fuzzing (SharpFuzz + AFL++) of every parser, --duration=<seconds> per target (default 60), "
        + "--targets=<a,b> to pick some; findings saved under artifacts/fuzz/findings.")
    .IsDependentOn("Build")
    .Does(() =>
{
    if (Fuzz(Argument("duration", 60), Argument("targets", "")) != 0) throw new Exception("Fuzzing found crashes or hangs (see above), or could not run.");
});

Task("Benchmark")
    .Description("End-to-end overhead (not part of Test): netns pods, nginx and wrk with no agent, the socket filter alone, and the full agent, interleaved, "
        + "with curves against request rate, observed pods and connections, and DNS and MySQL scenarios; writes BENCHMARKS.md and the curves' plots. --full=true runs every size and client mode. "
        + "--before=<git ref> also runs the agent published from that ref (state `before`, e.g. the HTTP-only agent) in the same run, built in a temporary git worktree.")
    .IsDependentOn("Publish")
    .Does(() =>
{
    var arguments = new ProcessArgumentBuilder()
        .Append("tests/Kubebpf.Benchmarks/overhead/overhead.py")
        .Append("--agent").AppendQuoted(agentDir.FullPath)
        .Append("--loader").AppendQuoted(artifacts.CombineWithFilePath($"bin/Kubebpf.Benchmarks/{configuration.ToLowerInvariant()}/Kubebpf.Benchmarks.dll").FullPath);
    if (Argument("full", false)) arguments.Append("--full");
    // Longer or shorter runs than the default (about 25 minutes on two cores): --reps=<n> --duration=<seconds>.
    foreach (var option in new[] { "reps", "duration" })
    {
        if (HasArgument(option)) arguments.Append($"--{option}").Append(Argument<int>(option).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
    // The committed figures from before the optimisations, shown beside the new ones.
    if (FileExists("tests/Kubebpf.Benchmarks/overhead/baseline.json")) arguments.Append("--baseline tests/Kubebpf.Benchmarks/overhead/baseline.json");
    var before = Argument("before", "");
    if (before != "")
    {
        // The older agent is published by its own build.cake from its own tree; all its build output stays in artifacts/before.
        var beforeSource = artifacts.Combine("before-src");
        var beforeArtifacts = artifacts.Combine("before");
        var commit = Git($"rev-parse --short {before}");
        if (DirectoryExists(beforeSource)) Git($"worktree remove --force \"{beforeSource}\"");  // left by an interrupted run
        Git($"worktree add --detach \"{beforeSource}\" {commit}");
        try
        {
            var published = StartProcess(beforeSource.CombineWithFilePath("build.sh"), new ProcessSettings
            {
                Arguments = $"--target=Publish --configuration={configuration}",
                WorkingDirectory = beforeSource,
                EnvironmentVariables = new Dictionary<string, string> { ["KUBEBPF_ARTIFACTS"] = beforeArtifacts.FullPath },
            });
            if (published != 0) throw new Exception($"Publishing the agent of {before} failed (exit code {published}).");
        }
        finally
        {
            Git($"worktree remove --force \"{beforeSource}\"");
        }
        arguments.Append("--before-agent").AppendQuoted(beforeArtifacts.Combine("agent").FullPath)
            .Append("--before-commit").Append(commit);
    }
    var exit = StartProcess("python3", new ProcessSettings { Arguments = arguments });
    if (exit != 0) throw new Exception($"The overhead benchmark failed (exit code {exit}).");
});

Task("Pack")
    .Description("The plugin author's packages in artifacts/packages: Kubebpf.Sdk and the dotnet new templates (Kubebpf.Templates). "
        + "Each local pack gets its own prerelease version (0.1.0-dev.<UTC time>), since NuGet caches a version forever; "
        + "--package-version=<version> sets it (a release). artifacts/packages/Kubebpf.Sdk.Version.props names the newest one for the samples.")
    .IsDependentOn("Build")
    .Does(() =>
{
    var packages = artifacts.Combine("packages");
    var baseVersion = XDocument.Load("Directory.Build.props").Descendants("Version").Single().Value;
    var version = Argument("package-version", $"{baseVersion}-dev.{DateTime.UtcNow:yyyyMMddHHmmss}");
    var settings = new DotNetMSBuildSettings().WithProperty("PackageVersion", version);
    DotNetPack("plugin-sdk/Kubebpf.Sdk/Kubebpf.Sdk.csproj", new DotNetPackSettings
    {
        Configuration = configuration, NoBuild = true, OutputDirectory = packages, MSBuildSettings = settings,
    });
    // Not in the solution (it has no code): packing builds it. Its template references the SDK version packed here.
    DotNetPack("plugin-sdk/templates/Kubebpf.Templates.csproj", new DotNetPackSettings
    {
        Configuration = configuration, OutputDirectory = packages, MSBuildSettings = settings,
    });
    // The samples (samples/Directory.Build.props) build against the newest pack: a new version changes their restore
    // inputs, so neither an old restore nor the NuGet cache can hand them a stale SDK.
    System.IO.File.WriteAllText(packages.CombineWithFilePath("Kubebpf.Sdk.Version.props").FullPath, $"""
        <Project>
          <!-- Written by the Pack target of build.cake: the Kubebpf.Sdk version packed last into this folder. -->
          <PropertyGroup>
            <KubebpfSdkVersion Condition="'$(KubebpfSdkVersion)' == ''">{version}</KubebpfSdkVersion>
          </PropertyGroup>
        </Project>

        """);
    Information($"Packed Kubebpf.Sdk and Kubebpf.Templates {version} into {packages}");
});

RunTarget(target);

// Passed/failed/skipped per pass, read from the TRX files (file name: <project>.<pass>.trx).
int Fuzz(int seconds, string targets = "")
{
    var arguments = new ProcessArgumentBuilder()
        .AppendQuoted(artifacts.Combine("bin/Kubebpf.Fuzz").Combine(configuration.ToLowerInvariant()).CombineWithFilePath("Kubebpf.Fuzz.dll").FullPath)
        .Append("run").Append("--duration").Append(seconds.ToString())
        .Append("--output").AppendQuoted(artifacts.Combine("fuzz").FullPath);
    if (targets.Length > 0) arguments.Append("--targets").Append(targets);
    return StartProcess("dotnet", new ProcessSettings { Arguments = arguments });
}

Dictionary<string, (int Passed, int Failed, int Skipped)> Summarise(DirectoryPath directory)
{
    var totals = new Dictionary<string, (int Passed, int Failed, int Skipped)>();
    foreach (var trx in GetFiles(directory.FullPath + "/*.trx"))
    {
        var pass = trx.GetFilenameWithoutExtension().GetExtension().TrimStart('.');
        XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
        var counters = XDocument.Load(trx.FullPath).Descendants(ns + "Counters").Single();
        int Read(string attribute) => int.Parse(counters.Attribute(attribute)?.Value ?? "0");
        totals.TryGetValue(pass, out var sum);
        totals[pass] = (sum.Passed + Read("passed"), sum.Failed + Read("failed"), sum.Skipped + Read("notExecuted"));
    }
    return totals;
}

// Runs git in the repository and returns its first output line; a failure names the command.
string Git(string arguments)
{
    var exit = StartProcess("git", new ProcessSettings { Arguments = arguments, RedirectStandardOutput = true }, out var output);
    if (exit != 0) throw new Exception($"git {arguments} failed (exit code {exit}).");
    return output.FirstOrDefault() ?? "";
}
