using k8s.Models;
using Kubebpf.Testing;

namespace Kubebpf.Deploy.Tests;

/// <summary>deploy/install.sh's manifests with the default backend, loaded with KubernetesClient's YAML loader: security posture, settings, and what it applies.</summary>
public sealed class ManifestTests : IDisposable
{
    private readonly DeployFolder _deploy = new();

    [Fact]
    public void The_agent_runs_unprivileged_with_four_capabilities_a_read_only_root_and_no_host_paths()
    {
        var manifests = _deploy.Render();
        var spec = DeployFolder.Objects<V1DaemonSet>(manifests, "06-agent.yaml").Single().Spec.Template.Spec;
        var agent = spec.Containers.Single();

        Assert.Equal((true, true), (spec.HostNetwork, spec.HostPID));
        Assert.Equal("registry.example/kubebpf/agent:1.2.3", agent.Image);
        Assert.False(agent.SecurityContext.Privileged);
        Assert.False(agent.SecurityContext.AllowPrivilegeEscalation);
        Assert.True(agent.SecurityContext.ReadOnlyRootFilesystem);
        Assert.Equal("Unconfined", agent.SecurityContext.SeccompProfile.Type);
        Assert.Equal(["ALL"], agent.SecurityContext.Capabilities.Drop);
        Assert.Equal(["BPF", "NET_RAW", "PERFMON", "SYS_NICE", "SYS_PTRACE"], agent.SecurityContext.Capabilities.Add);
        Assert.All(spec.Volumes, v => Assert.Null(v.HostPath));
        Assert.Equal(["config", "run", "tmp"], spec.Volumes.Select(v => v.Name));
        Assert.Equal("kubebpf-agent", spec.ServiceAccountName);
        Assert.Equal(["/bin/sh", "-c", "test -f /run/kubebpf/ready -a -f /run/kubebpf/attached"], agent.ReadinessProbe.Exec.Command);
        Assert.Equal("/run/kubebpf", DeployFolder.AgentConfiguration(manifests).GetProperty("Agent").GetProperty("HealthDirectory").GetString());
        Assert.Equal(["/bin/sh", "-c", "test -n \"$(find /run/kubebpf/alive -mmin -1)\""], agent.LivenessProbe.Exec.Command);
        Assert.Equal(("50m", "128Mi", "1", "512Mi"),
            (agent.Resources.Requests["cpu"].ToString(), agent.Resources.Requests["memory"].ToString(), agent.Resources.Limits["cpu"].ToString(), agent.Resources.Limits["memory"].ToString()));
        Assert.Equal("spec.nodeName", agent.Env.Single(e => e.Name == "NODE_NAME").ValueFrom.FieldRef.FieldPath);
    }

    [Fact]
    public void The_agent_may_only_get_list_and_watch_what_the_metadata_plugin_watches()
    {
        var manifests = _deploy.Render();
        var role = DeployFolder.Objects<V1ClusterRole>(manifests, "02-rbac.yaml").Single();

        Assert.Equal(
            ["/pods get,list,watch", "/services get,list,watch", "apps/replicasets get,list,watch", "batch/jobs get,list,watch", "discovery.k8s.io/endpointslices get,list,watch"],
            role.Rules.SelectMany(r => r.ApiGroups.SelectMany(g => r.Resources.Select(res => $"{g}/{res} {string.Join(",", r.Verbs)}"))).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(role.Rules, r => r.Resources.Any(res => res.Contains('/', StringComparison.Ordinal)));
        var binding = DeployFolder.Objects<V1ClusterRoleBinding>(manifests, "02-rbac.yaml").Single();
        Assert.Equal(("kubebpf-agent", "observe"), (binding.Subjects.Single().Name, binding.Subjects.Single().NamespaceProperty));
    }

    [Fact]
    public void InfluxDB_keeps_two_days_on_the_configured_node_and_folder_and_Grafana_gets_the_repository_dashboards()
    {
        var manifests = _deploy.Render();
        var influx = DeployFolder.Objects<V1StatefulSet>(manifests, "04-influxdb.yaml").Single().Spec.Template.Spec.Containers.Single();
        Assert.Equal("2d", influx.Env.Single(e => e.Name == "DOCKER_INFLUXDB_INIT_RETENTION").Value);
        var volumes = DeployFolder.Objects<V1PersistentVolume>(manifests, "04-influxdb.yaml").Concat(DeployFolder.Objects<V1PersistentVolume>(manifests, "05-grafana.yaml"))
            .Select(v => $"{v.Metadata.Name}: {v.Spec.Local.Path} on {v.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0].Values[0]}");
        Assert.Equal(["observe-influxdb: /data/influx on node-a", "observe-grafana: /data/grafana on node-b"], volumes);
        var setup = DeployFolder.Objects<V1ConfigMap>(manifests, "04-influxdb.yaml").Single(c => c.Metadata.Name == "influxdb-setup").Data["kubebpf-setup.sh"];
        Assert.Contains("influx v1 auth create --username kubebpf-agent --password \"$AGENT_PASSWORD\"", setup, StringComparison.Ordinal);
        Assert.Contains("influx v1 dbrp create --db kubebpf --rp autogen", setup, StringComparison.Ordinal);

        var dashboards = DeployFolder.Objects<V1ConfigMap>(manifests, "05-grafana.yaml").Single(c => c.Metadata.Name == "grafana-dashboards").Data;
        var folder = Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "dashboards");
        Assert.Equal(
            Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal).ToDictionary(f => Path.GetFileName(f)!, f => File.ReadAllText(f)),
            dashboards.OrderBy(d => d.Key, StringComparer.Ordinal).ToDictionary(d => d.Key, d => d.Value));
    }

    [Fact]
    public void Install_applies_exactly_what_render_only_writes_and_a_second_run_renders_the_same()
    {
        var rendered = _deploy.Render();
        Assert.Equal(rendered, _deploy.Render());
        Assert.Equal(["01-namespace.yaml", "02-rbac.yaml", "03-secrets.yaml", "04-influxdb.yaml", "05-grafana.yaml", "06-agent.yaml"], rendered.Keys);

        var install = _deploy.Install("--config", _deploy.Config);

        Assert.True(install.ExitCode == 0, install.Output);
        Assert.Equal(rendered, DeployFolder.ReadFolder(Path.Combine(_deploy.Root, "applied")));
        Assert.Equal(
            ["[apply][-f]", "[apply][-f]", "[apply][-f]", "[apply][-f]", "[apply][-f]", "[apply][-f]",
             "[-n][observe][rollout][status][statefulset/influxdb][--timeout=300s]", "[-n][observe][rollout][status][deployment/grafana][--timeout=300s]",
             "[-n][observe][rollout][status][daemonset/kubebpf-agent][--timeout=300s]"],
            _deploy.KubectlCalls.Select(l => l.StartsWith("[apply][-f]", StringComparison.Ordinal) ? "[apply][-f]" : l));
        Assert.Contains("kubectl -n observe port-forward svc/grafana 3000:3000", install.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _deploy.Dispose();
}
