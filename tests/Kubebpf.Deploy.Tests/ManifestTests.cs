using System.Diagnostics;
using k8s;
using k8s.Models;
using Kubebpf.Testing;

namespace Kubebpf.Deploy.Tests;

/// <summary>deploy/install.sh's manifests, loaded with KubernetesClient's YAML loader: security posture, settings, and what it applies.</summary>
public sealed class ManifestTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kubebpf-deploy-").FullName;

    private string Script => Path.Combine(RepositoryPaths.Root, "deploy", "install.sh");

    public ManifestTests()
    {
        File.WriteAllText(Path.Combine(_work, "config.ini"), """
            [global]
            NAMESPACE=observe
            AGENT_IMAGE=registry.example/kubebpf/agent:1.2.3
            [influxdb]
            INFLUXDB_HOST=node-a
            INFLUXDB_PV_PATH=/data/influx
            [grafana]
            GRAFANA_HOST=node-b
            GRAFANA_PV_PATH=/data/grafana
            """);
    }

    [Fact]
    public void The_agent_runs_unprivileged_with_three_capabilities_a_read_only_root_and_no_host_paths()
    {
        var daemonSet = Objects<V1DaemonSet>("05-agent.yaml").Single();
        var spec = daemonSet.Spec.Template.Spec;
        var agent = spec.Containers.Single();

        Assert.Equal((true, true), (spec.HostNetwork, spec.HostPID));
        Assert.Equal("registry.example/kubebpf/agent:1.2.3", agent.Image);
        Assert.False(agent.SecurityContext.Privileged);
        Assert.False(agent.SecurityContext.AllowPrivilegeEscalation);
        Assert.True(agent.SecurityContext.ReadOnlyRootFilesystem);
        Assert.Equal(["ALL"], agent.SecurityContext.Capabilities.Drop);
        Assert.Equal(["BPF", "NET_RAW", "PERFMON", "SYS_PTRACE"], agent.SecurityContext.Capabilities.Add);
        Assert.All(spec.Volumes, v => Assert.Null(v.HostPath));
        Assert.Equal(["config", "run", "tmp"], spec.Volumes.Select(v => v.Name));
        Assert.Equal("kubebpf-agent", spec.ServiceAccountName);
        Assert.Equal(["/bin/sh", "-c", "test -f /run/kubebpf/ready"], agent.ReadinessProbe.Exec.Command);
        Assert.Equal(["/bin/sh", "-c", "test -n \"$(find /run/kubebpf/alive -mmin -1)\""], agent.LivenessProbe.Exec.Command);
        Assert.Equal(("50m", "128Mi", "1", "512Mi"),
            (agent.Resources.Requests["cpu"].ToString(), agent.Resources.Requests["memory"].ToString(), agent.Resources.Limits["cpu"].ToString(), agent.Resources.Limits["memory"].ToString()));
        Assert.Equal("spec.nodeName", agent.Env.Single(e => e.Name == "NODE_NAME").ValueFrom.FieldRef.FieldPath);
    }

    [Fact]
    public void The_agent_may_only_get_list_and_watch_what_the_metadata_plugin_watches()
    {
        var role = Objects<V1ClusterRole>("02-rbac.yaml").Single();

        Assert.Equal(
            ["/pods get,list,watch", "/services get,list,watch", "apps/replicasets get,list,watch", "batch/jobs get,list,watch", "discovery.k8s.io/endpointslices get,list,watch"],
            role.Rules.SelectMany(r => r.ApiGroups.SelectMany(g => r.Resources.Select(res => $"{g}/{res} {string.Join(",", r.Verbs)}"))).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(role.Rules, r => r.Resources.Any(res => res.Contains('/', StringComparison.Ordinal)));
        var binding = Objects<V1ClusterRoleBinding>("02-rbac.yaml").Single();
        Assert.Equal(("kubebpf-agent", "observe"), (binding.Subjects.Single().Name, binding.Subjects.Single().NamespaceProperty));
    }

    [Fact]
    public void InfluxDB_keeps_two_days_on_the_configured_node_and_folder_and_Grafana_gets_the_repository_dashboards()
    {
        var influx = Objects<V1StatefulSet>("03-influxdb.yaml").Single().Spec.Template.Spec.Containers.Single();
        Assert.Equal("2d", influx.Env.Single(e => e.Name == "DOCKER_INFLUXDB_INIT_RETENTION").Value);
        var volumes = Objects<V1PersistentVolume>("03-influxdb.yaml").Concat(Objects<V1PersistentVolume>("04-grafana.yaml"))
            .Select(v => $"{v.Spec.Local.Path} on {v.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0].Values[0]}");
        Assert.Equal(["/data/influx on node-a", "/data/grafana on node-b"], volumes);
        var setup = Objects<V1ConfigMap>("03-influxdb.yaml").Single(c => c.Metadata.Name == "influxdb-setup").Data["kubebpf-setup.sh"];
        Assert.Contains("influx v1 dbrp create --db kubebpf --rp autogen", setup, StringComparison.Ordinal);

        var dashboards = Objects<V1ConfigMap>("04-grafana.yaml").Single(c => c.Metadata.Name == "grafana-dashboards").Data;
        var folder = Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "dashboards");
        Assert.Equal(
            Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal).ToDictionary(f => Path.GetFileName(f)!, f => File.ReadAllText(f)),
            dashboards.OrderBy(d => d.Key, StringComparer.Ordinal).ToDictionary(d => d.Key, d => d.Value));
    }

    [Fact]
    public void Install_applies_exactly_what_render_only_writes_and_a_second_run_renders_the_same()
    {
        var rendered = Render("first");
        Assert.Equal(rendered, Render("second"));

        // kubectl stand-in: keeps every file applied and answers rollout status.
        var bin = Directory.CreateDirectory(Path.Combine(_work, "bin")).FullName;
        var applied = Directory.CreateDirectory(Path.Combine(_work, "applied")).FullName;
        File.WriteAllText(Path.Combine(bin, "kubectl"), $"""
            #!/bin/sh
            echo "$*" >> '{_work}/kubectl.log'
            if [ "$1" = apply ]; then cp "$3" '{applied}/'; fi
            """);
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(Path.Combine(bin, "kubectl"), (UnixFileMode)0b111_101_101);
        }
        var install = Run(new Dictionary<string, string> { ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}" }, "--config", Path.Combine(_work, "config.ini"));

        Assert.Equal(rendered, Read(applied));
        Assert.Equal(
            ["apply -f", "apply -f", "apply -f", "apply -f", "apply -f",
             "-n observe rollout status statefulset/influxdb --timeout=300s", "-n observe rollout status deployment/grafana --timeout=300s",
             "-n observe rollout status daemonset/kubebpf-agent --timeout=300s"],
            File.ReadAllLines(Path.Combine(_work, "kubectl.log")).Select(l => l.StartsWith("apply -f", StringComparison.Ordinal) ? "apply -f" : l));
        Assert.Contains("kubectl -n observe port-forward svc/grafana 3000:3000", install, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private List<T> Objects<T>(string file) =>
        [.. KubernetesYaml.LoadAllFromString(Render("manifests")[file]).OfType<T>()];

    private Dictionary<string, string> Render(string name)
    {
        var directory = Path.Combine(_work, name);
        if (!Directory.Exists(directory))
        {
            Run(new Dictionary<string, string>(), "--config", Path.Combine(_work, "config.ini"), "--render-only", directory);
        }

        return Read(directory);
    }

    private static Dictionary<string, string> Read(string directory) =>
        Directory.GetFiles(directory).Order(StringComparer.Ordinal).ToDictionary(f => Path.GetFileName(f)!, File.ReadAllText);

    private string Run(Dictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"install.sh {string.Join(' ', arguments)} failed: {output}");
        return output;
    }
}
