using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text.Json;
using k8s;
using k8s.Models;
using Kubebpf.Testing;

// The scripts are bash and set Unix file modes: these tests run on Linux only.
[assembly: SupportedOSPlatform("linux")]

namespace Kubebpf.Deploy.Tests;

/// <summary>What a run of install.sh or uninstall.sh did: its exit code and what it printed (stdout, then stderr).</summary>
public sealed record ScriptResult(int ExitCode, string Output);

/// <summary>
/// A scratch folder holding a config.ini (and, beside it, the credentials install.sh generates), from which
/// deploy/install.sh and deploy/uninstall.sh are run, with a kubectl stand-in on the PATH that logs its arguments.
/// </summary>
public sealed class DeployFolder : IDisposable
{
    /// <summary>A config.ini for the default backend (InfluxDB); tests append or replace sections.</summary>
    public const string InfluxDbConfig = """
        [global]
        NAMESPACE=observe
        AGENT_IMAGE=registry.example/kubebpf/agent:1.2.3
        [influxdb]
        INFLUXDB_HOST=node-a
        INFLUXDB_PV_PATH=/data/influx
        [grafana]
        GRAFANA_HOST=node-b
        GRAFANA_PV_PATH=/data/grafana
        """;

    private int _renders;

    public DeployFolder(string config = InfluxDbConfig)
    {
        WriteConfig(config);
        var kubectl = Path.Combine(Directory.CreateDirectory(Path.Combine(Root, "bin")).FullName, "kubectl");
        // Logs each call's arguments one per line (so that a stray carriage return shows), and keeps applied files.
        File.WriteAllText(kubectl, $"""
            #!/bin/sh
            printf '[%s]' "$@" >> '{KubectlLog}'; echo >> '{KubectlLog}'
            if [ "$1" = apply ]; then mkdir -p '{Root}/applied' && cp "$3" '{Root}/applied/'; fi
            """);
        File.SetUnixFileMode(kubectl, (UnixFileMode)0b111_101_101);
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("kubebpf-deploy-").FullName;

    public string Config => Path.Combine(Root, "config.ini");

    public string Credentials => Path.Combine(Root, ".kubebpf-credentials.env");

    /// <summary>Every kubectl call so far, one line each, arguments in brackets.</summary>
    public IReadOnlyList<string> KubectlCalls => File.Exists(KubectlLog) ? File.ReadAllLines(KubectlLog) : [];

    private string KubectlLog => Path.Combine(Root, "kubectl.log");

    public void WriteConfig(string text) => File.WriteAllText(Config, text);

    public ScriptResult Install(params string[] arguments) => Run("install.sh", null, arguments);

    public ScriptResult Uninstall() => Run("uninstall.sh", null, "--config", Config);

    /// <summary>install.sh --render-only into a new folder (under <paramref name="umask"/> when given); fails the test when the script fails.</summary>
    public string RenderToFolder(string? umask = null)
    {
        var folder = Path.Combine(Root, $"rendered-{++_renders}");
        var result = Run("install.sh", umask, "--config", Config, "--render-only", folder);
        Assert.True(result.ExitCode == 0, $"install.sh --render-only failed: {result.Output}");
        return folder;
    }

    /// <summary>The rendered manifests by file name.</summary>
    public Dictionary<string, string> Render() => ReadFolder(RenderToFolder());

    public static Dictionary<string, string> ReadFolder(string folder) =>
        Directory.GetFiles(folder).Order(StringComparer.Ordinal).ToDictionary(f => Path.GetFileName(f)!, File.ReadAllText);

    /// <summary>The objects of kind T in a rendered file, through KubernetesClient's YAML loader.</summary>
    public static List<T> Objects<T>(Dictionary<string, string> manifests, string file) =>
        [.. KubernetesYaml.LoadAllFromString(manifests[file]).OfType<T>()];

    /// <summary>The agent's kubebpf.json from its ConfigMap, parsed.</summary>
    public static JsonElement AgentConfiguration(Dictionary<string, string> manifests) =>
        JsonDocument.Parse(Objects<V1ConfigMap>(manifests, "06-agent.yaml").Single(c => c.Metadata.Name == "kubebpf-agent").Data["kubebpf.json"]).RootElement;

    public static V1Container Agent(Dictionary<string, string> manifests) =>
        Objects<V1DaemonSet>(manifests, "06-agent.yaml").Single().Spec.Template.Spec.Containers.Single();

    /// <summary>The agent's environment variables that come from Secrets: name -> secret/key.</summary>
    public static Dictionary<string, string> SecretEnvironment(Dictionary<string, string> manifests) =>
        Agent(manifests).Env.Where(e => e.ValueFrom?.SecretKeyRef is not null)
            .ToDictionary(e => e.Name, e => $"{e.ValueFrom.SecretKeyRef.Name}/{e.ValueFrom.SecretKeyRef.Key}");

    /// <summary>Every Secret rendered: name/key -> value.</summary>
    public static Dictionary<string, string> SecretValues(Dictionary<string, string> manifests) =>
        manifests.TryGetValue("03-secrets.yaml", out _)
            ? Objects<V1Secret>(manifests, "03-secrets.yaml").SelectMany(s => s.StringData.Select(d => (Key: $"{s.Metadata.Name}/{d.Key}", d.Value))).ToDictionary(p => p.Key, p => p.Value)
            : [];

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>Runs a bash program (<c>bash -c</c>) with the arguments as $1..., the kubectl stand-in first on the PATH.</summary>
    public ScriptResult Bash(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(program);
        start.ArgumentList.Add("bash");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PATH"] = $"{Path.Combine(Root, "bin")}:{Environment.GetEnvironmentVariable("PATH")}";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return new ScriptResult(process.ExitCode, output + error.Result);
    }

    private ScriptResult Run(string script, string? umask, params string[] arguments) =>
        Bash(umask is null ? "exec bash \"$@\"" : $"umask {umask} && exec bash \"$@\"", [Path.Combine(RepositoryPaths.Root, "deploy", script), .. arguments]);
}
