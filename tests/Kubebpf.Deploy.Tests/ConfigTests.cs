using k8s.Models;

namespace Kubebpf.Deploy.Tests;

/// <summary>
/// Issue 14's findings on install.sh and uninstall.sh: config.ini values pasted into YAML unescaped, CRLF files
/// mis-read by the uninstaller, Kubernetes' own namespaces accepted, --render-only's file modes and credentials.
/// </summary>
public sealed class ConfigTests : IDisposable
{
    // YAML and JSON structure characters in every kind of position: plain scalar, flow sequence, JSON in a block scalar, Secret.
    private const string HostileImage = """registry.example:5000/agent:1.2 # "quoted" 'single' \back {a: [b]}, &c *d""";
    private const string HostileNode = "node-a, \"x\"] # y";
    private const string HostilePath = "/data/it's: here #1";
    private const string HostileUser = "tenant: \"a\" # \\b";
    private const string HostilePassword = "p@ss: #word' \"x\" \\ {y}";
    private const string HostileHeaders = "authorization=Basic YTpi: #\"q\" 'z' \\w";

    private readonly DeployFolder _deploy = new();

    [Fact]
    public void Values_with_colons_hashes_quotes_and_backslashes_are_quoted_and_arrive_unchanged()
    {
        _deploy.WriteConfig($"""
            [global]
            NAMESPACE=observe
            AGENT_IMAGE={HostileImage}
            [influxdb]
            INFLUXDB_HOST={HostileNode}
            INFLUXDB_PV_PATH={HostilePath}
            [grafana]
            GRAFANA_HOST=node-b
            GRAFANA_PV_PATH=/data/grafana
            """);
        var manifests = _deploy.Render();

        Assert.Equal(HostileImage, DeployFolder.Agent(manifests).Image);
        var volume = DeployFolder.Objects<V1PersistentVolume>(manifests, "04-influxdb.yaml").Single();
        Assert.Equal(HostilePath, volume.Spec.Local.Path);
        Assert.Equal([HostileNode], volume.Spec.NodeAffinity.Required.NodeSelectorTerms.Single().MatchExpressions.Single().Values);
    }

    [Fact]
    public void Hostile_values_in_the_agents_JSON_and_in_Secrets_arrive_unchanged()
    {
        _deploy.WriteConfig($"""
            [global]
            NAMESPACE=observe
            AGENT_IMAGE=agent:1
            [backend]
            BACKEND=prometheus
            [grafana]
            GRAFANA_HOST=node-b
            GRAFANA_PV_PATH={HostilePath}
            [prometheus]
            PROMETHEUS_QUERY_URL=http://prometheus:9090/a:b#"c'
            PROMETHEUS_REMOTE_WRITE_URL=https://mimir/push?x=a:b#"c'\d
            PROMETHEUS_REMOTE_WRITE_USERNAME={HostileUser}
            PROMETHEUS_REMOTE_WRITE_PASSWORD={HostilePassword}
            """);
        var prometheus = _deploy.Render();

        Assert.Contains($"{_deploy.Config} holds credentials and others may read it: chmod 600", _deploy.Install("--config", _deploy.Config, "--render-only", Path.Combine(_deploy.Root, "warned")).Output, StringComparison.Ordinal);
        File.SetUnixFileMode(_deploy.Config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.DoesNotContain("others may read it", _deploy.Install("--config", _deploy.Config, "--render-only", Path.Combine(_deploy.Root, "private")).Output, StringComparison.Ordinal);
        var remoteWrite = DeployFolder.AgentConfiguration(prometheus).GetProperty("Plugins").GetProperty("Prometheus").GetProperty("RemoteWrite");
        Assert.Equal((HostileUser, "https://mimir/push?x=a:b#\"c'\\d"), (remoteWrite.GetProperty("Username").GetString(), remoteWrite.GetProperty("Url").GetString()));
        Assert.Equal(HostilePassword, DeployFolder.SecretValues(prometheus)["kubebpf-agent-prometheus/password"]);
        Assert.Equal(HostilePath, DeployFolder.Objects<V1PersistentVolume>(prometheus, "05-grafana.yaml").Single().Spec.Local.Path);
        var datasources = DeployFolder.Objects<V1ConfigMap>(prometheus, "05-grafana.yaml").Single(c => c.Metadata.Name == "grafana-provisioning").Data["datasources.yaml"];
        Assert.Contains("url: \"http://prometheus:9090/a:b#\\\"c'\"", datasources, StringComparison.Ordinal);

        _deploy.WriteConfig($"""
            [global]
            NAMESPACE=observe
            AGENT_IMAGE=agent:1
            [backend]
            BACKEND=otlp
            [otlp]
            OTLP_ENDPOINT=http://collector:4317/#"x"
            OTLP_HEADERS={HostileHeaders}
            """);
        var otlp = _deploy.Render();
        Assert.Equal(HostileHeaders, DeployFolder.SecretValues(otlp)["kubebpf-agent-otlp/headers"]);
        Assert.Equal("http://collector:4317/#\"x\"", DeployFolder.AgentConfiguration(otlp).GetProperty("Plugins").GetProperty("Otlp").GetProperty("Endpoint").GetString());
    }

    [Theory]
    [InlineData("a\rNAMESPACE: other")] // a lone carriage return: a line break to YAML
    [InlineData("a\u2028b")] // Unicode line separator: a line break to YAML too
    [InlineData("a\u0085b")] // NEL
    [InlineData("a\u001bb")] // another control character (ESC)
    public void A_value_with_a_line_break_is_refused_naming_its_key(string image)
    {
        _deploy.WriteConfig(DeployFolder.InfluxDbConfig.Replace("AGENT_IMAGE=registry.example/kubebpf/agent:1.2.3", $"AGENT_IMAGE={image}", StringComparison.Ordinal));

        var result = _deploy.Install("--config", _deploy.Config, "--render-only", Path.Combine(_deploy.Root, "out"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("[global] AGENT_IMAGE has a line break or control character in its value", result.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_deploy.Root, "out")));
    }

    [Fact]
    public void A_config_that_is_not_UTF8_is_refused()
    {
        File.WriteAllBytes(_deploy.Config, [.. System.Text.Encoding.UTF8.GetBytes(DeployFolder.InfluxDbConfig.Replace("/data/influx", "/data/", StringComparison.Ordinal)), 0xE9, (byte)'\n']);

        var result = _deploy.Install("--config", _deploy.Config, "--render-only", Path.Combine(_deploy.Root, "out"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is not UTF-8 text", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_CRLF_config_is_read_like_its_LF_twin_by_both_scripts()
    {
        var lf = _deploy.Render();
        _deploy.Uninstall();
        var lfCalls = _deploy.KubectlCalls;
        File.Delete(Path.Combine(_deploy.Root, "kubectl.log"));

        _deploy.WriteConfig(DeployFolder.InfluxDbConfig.ReplaceLineEndings("\r\n") + "\r\n");
        Assert.Equal(lf, _deploy.Render());
        var uninstall = _deploy.Uninstall();

        Assert.True(uninstall.ExitCode == 0, uninstall.Output);
        Assert.Equal(lfCalls, _deploy.KubectlCalls);
        Assert.Equal(
            ["[delete][namespace][observe][--ignore-not-found][--wait=true]", "[delete][clusterrolebinding][kubebpf-agent][--ignore-not-found]",
             "[delete][clusterrole][kubebpf-agent][--ignore-not-found]", "[delete][persistentvolume][observe-influxdb][observe-grafana][--ignore-not-found]"],
            _deploy.KubectlCalls);
        Assert.Contains("node-a:/data/influx   (InfluxDB)", uninstall.Output, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', uninstall.Output);
    }

    [Theory]
    [InlineData("default")]
    [InlineData("kube-system")]
    [InlineData("kube-public")]
    [InlineData("kube-node-lease")]
    public void Kubernetes_own_namespaces_are_refused_by_both_scripts_before_any_kubectl_call(string namespaceName)
    {
        _deploy.WriteConfig(DeployFolder.InfluxDbConfig.Replace("NAMESPACE=observe", $"NAMESPACE={namespaceName}", StringComparison.Ordinal));

        var uninstall = _deploy.Uninstall();
        var install = _deploy.Install("--config", _deploy.Config);

        foreach (var result in new[] { uninstall, install })
        {
            Assert.Equal(1, result.ExitCode);
            Assert.Contains($"[global] NAMESPACE={namespaceName} is a namespace Kubernetes itself uses", result.Output, StringComparison.Ordinal);
        }

        Assert.Empty(_deploy.KubectlCalls);
    }

    [Fact]
    public void A_namespace_that_is_not_a_DNS_label_is_refused()
    {
        _deploy.WriteConfig(DeployFolder.InfluxDbConfig.Replace("NAMESPACE=observe", "NAMESPACE=Observe_1", StringComparison.Ordinal));

        var result = _deploy.Uninstall();

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("[global] NAMESPACE=Observe_1 is not a Kubernetes namespace name", result.Output, StringComparison.Ordinal);
        Assert.Empty(_deploy.KubectlCalls);
    }

    [Theory]
    [InlineData("077")]
    [InlineData("000")]
    public void Render_only_writes_readable_manifests_and_the_credentials_only_into_the_Secrets_file_at_600(string umask)
    {
        var folder = _deploy.RenderToFolder(umask);

        var modes = Directory.GetFiles(folder).Order(StringComparer.Ordinal).Select(f => $"{Path.GetFileName(f)} {Convert.ToString((int)File.GetUnixFileMode(f), 8)}");
        Assert.Equal(["01-namespace.yaml 644", "02-rbac.yaml 644", "03-secrets.yaml 600", "04-influxdb.yaml 644", "05-grafana.yaml 644", "06-agent.yaml 644"], modes);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_deploy.Credentials));
        var secrets = File.ReadAllLines(_deploy.Credentials).Select(l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]).ToList();
        Assert.Equal(5, secrets.Count);
        foreach (var file in Directory.GetFiles(folder))
        {
            var text = File.ReadAllText(file);
            Assert.Equal(Path.GetFileName(file) == "03-secrets.yaml", secrets.All(s => text.Contains(s, StringComparison.Ordinal)));
            Assert.True(Path.GetFileName(file) == "03-secrets.yaml" || secrets.All(s => !text.Contains(s, StringComparison.Ordinal)), $"{file} holds a credential");
        }
    }

    [Fact]
    public void Render_only_says_where_the_credentials_are_and_refuses_a_folder_with_files()
    {
        var folder = Path.Combine(_deploy.Root, "out");

        var first = _deploy.Install("--config", _deploy.Config, "--render-only", folder);
        var again = _deploy.Install("--config", _deploy.Config, "--render-only", folder);

        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains($"{folder}/03-secrets.yaml holds the Secrets (credentials in clear text, mode 600)", first.Output, StringComparison.Ordinal);
        Assert.Contains($"The generated passwords are kept in {_deploy.Credentials} (mode 600)", first.Output, StringComparison.Ordinal);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--render-only needs a new or empty folder", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_credentials_file_is_read_as_data_and_never_executed()
    {
        _deploy.Render();
        var marker = Path.Combine(_deploy.Root, "executed");
        File.AppendAllText(_deploy.Credentials, $"GRAFANA_ADMIN_PASSWORD=$(touch {marker})\n");

        var manifests = _deploy.Render();

        Assert.False(File.Exists(marker));
        Assert.Equal($"$(touch {marker})", DeployFolder.SecretValues(manifests)["grafana/admin-password"]);
    }

    public void Dispose() => _deploy.Dispose();
}
