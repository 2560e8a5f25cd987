using System.Text.Json;
using k8s;
using k8s.Models;
using Kubebpf.Testing;
using YamlDotNet.RepresentationModel;

namespace Kubebpf.Deploy.Tests;

/// <summary>The backend choice of config.ini (issue 16): what install.sh renders for influxdb, prometheus and otlp.</summary>
public sealed class BackendTests : IDisposable
{
    private const string Global = """
        [global]
        NAMESPACE=observe
        AGENT_IMAGE=registry.example/kubebpf/agent:1.2.3
        [grafana]
        GRAFANA_HOST=node-b
        GRAFANA_PV_PATH=/data/grafana

        """;

    private readonly DeployFolder _deploy = new();

    public static TheoryData<string> Backends => ["influxdb", "prometheus", "otlp"];

    [Theory]
    [MemberData(nameof(Backends))]
    public void Every_rendered_file_is_valid_YAML_of_known_Kubernetes_objects_in_the_chosen_namespace(string backend)
    {
        _deploy.WriteConfig(ConfigFor(backend));
        var manifests = _deploy.Render();

        foreach (var (file, text) in manifests)
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            Assert.True(stream.Documents.Count > 0, $"{file} holds no document");
            foreach (var metadata in DeployFolder.Objects<IMetadata<V1ObjectMeta>>(manifests, file).Select(o => o.Metadata))
            {
                Assert.True(metadata.NamespaceProperty is null or "observe", $"{file}: {metadata.Name} is in {metadata.NamespaceProperty}");
            }
        }

        var kinds = manifests.Keys.SelectMany(f => DeployFolder.Objects<IKubernetesObject>(manifests, f).Select(o => $"{o.Kind}/{((IMetadata<V1ObjectMeta>)o).Metadata.Name}"));
        Assert.Equal(backend == "influxdb", kinds.Contains("StatefulSet/influxdb"));
        Assert.Equal(backend != "otlp", kinds.Contains("Deployment/grafana"));
        Assert.Contains("DaemonSet/kubebpf-agent", kinds);
    }

    [Fact]
    public void InfluxDB_backend_gives_the_agent_the_InfluxDb_sink_and_no_scrape_endpoint()
    {
        var manifests = _deploy.Render();

        var plugins = DeployFolder.AgentConfiguration(manifests).GetProperty("Plugins");
        Assert.Equal("http://influxdb.observe.svc:8086", plugins.GetProperty("InfluxDb").GetProperty("Url").GetString());
        Assert.False(plugins.TryGetProperty("Prometheus", out _));
        Assert.False(plugins.TryGetProperty("Otlp", out _));
        Assert.Equal(new Dictionary<string, string> { ["KUBEBPF_Plugins__InfluxDb__Password"] = "kubebpf-agent-influxdb/password" }, DeployFolder.SecretEnvironment(manifests));
        var daemonSet = DeployFolder.Objects<V1DaemonSet>(manifests, "06-agent.yaml").Single();
        Assert.Null(daemonSet.Spec.Template.Metadata.Annotations);
        Assert.Null(DeployFolder.Agent(manifests).Ports);
        Assert.Equal("kubebpf-influxdb", Datasource(manifests)["uid"]);
    }

    [Fact]
    public void Metrics_endpoint_with_InfluxDB_adds_the_scrape_endpoint_and_its_annotations()
    {
        _deploy.WriteConfig(DeployFolder.InfluxDbConfig + "\n[backend]\nMETRICS_ENDPOINT=yes\n");
        var manifests = _deploy.Render();

        var plugins = DeployFolder.AgentConfiguration(manifests).GetProperty("Plugins");
        Assert.True(plugins.TryGetProperty("InfluxDb", out _));
        Assert.Equal("""{"ListenAddress":"0.0.0.0:9464"}""", JsonSerializer.Serialize(plugins.GetProperty("Prometheus")));
        AssertScrapeEndpoint(manifests);
    }

    [Fact]
    public void Prometheus_backend_with_basic_auth_writes_remotely_keeps_the_password_in_a_Secret_and_provisions_PromQL_dashboards()
    {
        _deploy.WriteConfig(ConfigFor("prometheus") + """
            PROMETHEUS_REMOTE_WRITE_URL=https://mimir.example/api/v1/push
            PROMETHEUS_REMOTE_WRITE_USERNAME=tenant-1
            PROMETHEUS_REMOTE_WRITE_PASSWORD=s3cret
            """);
        var manifests = _deploy.Render();

        var prometheus = DeployFolder.AgentConfiguration(manifests).GetProperty("Plugins").GetProperty("Prometheus");
        Assert.Equal("0.0.0.0:9464", prometheus.GetProperty("ListenAddress").GetString());
        Assert.Equal(
            """{"Username":"tenant-1","Url":"https://mimir.example/api/v1/push"}""",
            JsonSerializer.Serialize(prometheus.GetProperty("RemoteWrite")));
        Assert.False(DeployFolder.AgentConfiguration(manifests).GetProperty("Plugins").TryGetProperty("InfluxDb", out _));
        Assert.Equal(
            new Dictionary<string, string> { ["KUBEBPF_Plugins__Prometheus__RemoteWrite__Password"] = "kubebpf-agent-prometheus/password" },
            DeployFolder.SecretEnvironment(manifests));
        Assert.Equal("s3cret", DeployFolder.SecretValues(manifests)["kubebpf-agent-prometheus/password"]);
        Assert.DoesNotContain(manifests, m => m.Key != "03-secrets.yaml" && m.Value.Contains("s3cret", StringComparison.Ordinal));
        AssertScrapeEndpoint(manifests);

        var datasource = Datasource(manifests);
        Assert.Equal(("prometheus", "kubebpf-prometheus", "http://prometheus.monitoring.svc:9090"), (datasource["type"], datasource["uid"], datasource["url"]));
        var grafana = DeployFolder.Objects<V1Deployment>(manifests, "05-grafana.yaml").Single().Spec.Template.Spec.Containers.Single();
        Assert.DoesNotContain(grafana.Env, e => e.Name == "INFLUXDB_PASSWORD");
        var dashboards = DeployFolder.Objects<V1ConfigMap>(manifests, "05-grafana.yaml").Single(c => c.Metadata.Name == "grafana-dashboards").Data ?? new Dictionary<string, string>();
        var folder = Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "dashboards-prometheus");
        Assert.Equal(
            Directory.Exists(folder) ? Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal).ToDictionary(f => Path.GetFileName(f)!, File.ReadAllText) : [],
            dashboards.OrderBy(d => d.Key, StringComparer.Ordinal).ToDictionary(d => d.Key, d => d.Value));
    }

    [Fact]
    public void Prometheus_backend_with_a_bearer_token_passes_it_through_a_Secret_and_scrape_only_has_no_remote_write()
    {
        _deploy.WriteConfig(ConfigFor("prometheus") + "PROMETHEUS_REMOTE_WRITE_URL=http://vm.example:8428/api/v1/write\nPROMETHEUS_REMOTE_WRITE_BEARER_TOKEN=t0ken\n");
        var bearer = _deploy.Render();
        Assert.Equal(
            new Dictionary<string, string> { ["KUBEBPF_Plugins__Prometheus__RemoteWrite__BearerToken"] = "kubebpf-agent-prometheus/bearer-token" },
            DeployFolder.SecretEnvironment(bearer));
        Assert.Equal("t0ken", DeployFolder.SecretValues(bearer)["kubebpf-agent-prometheus/bearer-token"]);
        Assert.Equal("""{"Url":"http://vm.example:8428/api/v1/write"}""", JsonSerializer.Serialize(DeployFolder.AgentConfiguration(bearer).GetProperty("Plugins").GetProperty("Prometheus").GetProperty("RemoteWrite")));

        _deploy.WriteConfig(ConfigFor("prometheus"));
        var scrapeOnly = _deploy.Render();
        Assert.Equal("""{"ListenAddress":"0.0.0.0:9464"}""", JsonSerializer.Serialize(DeployFolder.AgentConfiguration(scrapeOnly).GetProperty("Plugins").GetProperty("Prometheus")));
        Assert.Empty(DeployFolder.SecretEnvironment(scrapeOnly));
        AssertScrapeEndpoint(scrapeOnly);
    }

    [Theory]
    [InlineData("PROMETHEUS_REMOTE_WRITE_URL=http://x/\nPROMETHEUS_REMOTE_WRITE_USERNAME=u\n", "PROMETHEUS_REMOTE_WRITE_USERNAME and PROMETHEUS_REMOTE_WRITE_PASSWORD go together")]
    [InlineData("PROMETHEUS_REMOTE_WRITE_URL=http://x/\nPROMETHEUS_REMOTE_WRITE_USERNAME=u\nPROMETHEUS_REMOTE_WRITE_PASSWORD=p\nPROMETHEUS_REMOTE_WRITE_BEARER_TOKEN=t\n", "not both")]
    [InlineData("PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN=t\n", "PROMETHEUS_REMOTE_WRITE_URL is empty")]
    [InlineData("PROMETHEUS_REMOTE_WRITE_URL=mimir:9009\n", "[prometheus] PROMETHEUS_REMOTE_WRITE_URL must be an http:// or https:// URL")]
    public void Inconsistent_Prometheus_settings_are_refused_naming_the_keys(string settings, string message)
    {
        _deploy.WriteConfig(ConfigFor("prometheus") + settings);

        var result = _deploy.Install("--config", _deploy.Config, "--render-only", Path.Combine(_deploy.Root, "out"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_deploy.Root, "out")));
    }

    [Fact]
    public void OTLP_backend_configures_endpoint_protocol_call_log_and_headers_from_a_Secret_and_bundles_nothing()
    {
        _deploy.WriteConfig(ConfigFor("otlp") + "OTLP_PROTOCOL=http/protobuf\nOTLP_HEADERS=x-api-key=abc,x-tenant=t1\nOTLP_CALL_LOG=yes\n");
        var manifests = _deploy.Render();

        Assert.Equal(["01-namespace.yaml", "02-rbac.yaml", "03-secrets.yaml", "06-agent.yaml"], manifests.Keys);
        var plugins = DeployFolder.AgentConfiguration(manifests).GetProperty("Plugins");
        Assert.Equal(
            """{"CallLog":{"Enabled":true},"Endpoint":"http://otel-collector.monitoring.svc:4318","Protocol":"http/protobuf"}""",
            JsonSerializer.Serialize(plugins.GetProperty("Otlp")));
        Assert.False(plugins.TryGetProperty("InfluxDb", out _));
        Assert.False(plugins.TryGetProperty("Prometheus", out _));
        Assert.Equal(new Dictionary<string, string> { ["KUBEBPF_Plugins__Otlp__Headers"] = "kubebpf-agent-otlp/headers" }, DeployFolder.SecretEnvironment(manifests));
        Assert.Equal(new Dictionary<string, string> { ["kubebpf-agent-otlp/headers"] = "x-api-key=abc,x-tenant=t1" }, DeployFolder.SecretValues(manifests));
        Assert.False(File.Exists(_deploy.Credentials), "the OTLP backend bundles no InfluxDB or Grafana, so it needs no generated credentials");

        var install = _deploy.Install("--config", _deploy.Config);
        Assert.True(install.ExitCode == 0, install.Output);
        Assert.Equal(
            ["[-n][observe][rollout][status][daemonset/kubebpf-agent][--timeout=300s]"],
            _deploy.KubectlCalls.Where(c => !c.StartsWith("[apply]", StringComparison.Ordinal)));
    }

    [Fact]
    public void OTLP_backend_without_headers_renders_no_Secret_and_defaults_to_gRPC_without_call_log()
    {
        _deploy.WriteConfig(ConfigFor("otlp"));
        var manifests = _deploy.Render();

        Assert.DoesNotContain("03-secrets.yaml", manifests.Keys);
        Assert.Equal(
            """{"Endpoint":"http://otel-collector.monitoring.svc:4318","Protocol":"grpc"}""",
            JsonSerializer.Serialize(DeployFolder.AgentConfiguration(manifests).GetProperty("Plugins").GetProperty("Otlp")));
        Assert.Empty(DeployFolder.SecretEnvironment(manifests));
    }

    [Theory]
    [InlineData("influxdb", "node-b:/data/grafana   (Grafana)", true)]
    [InlineData("prometheus", "node-b:/data/grafana   (Grafana)", false)]
    [InlineData("otlp", "kubebpf is removed from namespace observe.", false)]
    public void Uninstall_names_the_host_folders_the_backend_left(string backend, string expected, bool influxFolder)
    {
        _deploy.WriteConfig(ConfigFor(backend));

        var result = _deploy.Uninstall();

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(expected, result.Output, StringComparison.Ordinal);
        Assert.Equal(influxFolder, result.Output.Contains("(InfluxDB)", StringComparison.Ordinal));
        Assert.Equal(backend != "otlp", result.Output.Contains("host folders remain", StringComparison.Ordinal));
        Assert.Equal("[delete][namespace][observe][--ignore-not-found][--wait=true]", _deploy.KubectlCalls[0]);
    }

    [Theory]
    [InlineData("[backend]\nBACKEND=graphite\n", "[backend] BACKEND must be influxdb, prometheus or otlp")]
    [InlineData("[backend]\nBACKEND=otlp\n[otlp]\nOTLP_ENDPOINT=http://c:4317\nOTLP_PROTOCOL=http/json\n", "[otlp] OTLP_PROTOCOL must be grpc or http/protobuf")]
    [InlineData("[backend]\nBACKEND=otlp\n[otlp]\nOTLP_ENDPOINT=http://c:4317\nOTLP_HEADERS=just-a-token\n", "[otlp] OTLP_HEADERS must be key=value pairs")]
    [InlineData("[backend]\nBACKEND=otlp\n", "[otlp] OTLP_ENDPOINT is missing")]
    [InlineData("[backend]\nMETRICS_ENDPOINT=true\n", "[backend] METRICS_ENDPOINT must be yes or no")]
    public void Bad_backend_settings_are_refused_naming_the_key(string settings, string message)
    {
        _deploy.WriteConfig(DeployFolder.InfluxDbConfig + "\n" + settings);

        var result = _deploy.Install("--config", _deploy.Config, "--render-only", Path.Combine(_deploy.Root, "out"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _deploy.Dispose();

    private static string ConfigFor(string backend) => backend switch
    {
        "influxdb" => DeployFolder.InfluxDbConfig,
        "prometheus" => Global + "[backend]\nBACKEND=prometheus\n[prometheus]\nPROMETHEUS_QUERY_URL=http://prometheus.monitoring.svc:9090\n",
        _ => Global + "[backend]\nBACKEND=otlp\n[otlp]\nOTLP_ENDPOINT=http://otel-collector.monitoring.svc:4318\n",
    };

    // The DaemonSet serves /metrics on 9464 (container port "metrics") and says so with the prometheus.io annotations.
    private static void AssertScrapeEndpoint(Dictionary<string, string> manifests)
    {
        var template = DeployFolder.Objects<V1DaemonSet>(manifests, "06-agent.yaml").Single().Spec.Template;
        Assert.Equal(
            new Dictionary<string, string> { ["prometheus.io/scrape"] = "true", ["prometheus.io/port"] = "9464", ["prometheus.io/path"] = "/metrics" },
            template.Metadata.Annotations);
        var port = template.Spec.Containers.Single().Ports.Single();
        Assert.Equal(("metrics", 9464, "TCP"), (port.Name, port.ContainerPort, port.Protocol));
    }

    // Grafana's provisioned data source (the YAML file inside the provisioning ConfigMap), as plain YAML.
    private static Dictionary<string, string> Datasource(Dictionary<string, string> manifests)
    {
        var text = DeployFolder.Objects<V1ConfigMap>(manifests, "05-grafana.yaml").Single(c => c.Metadata.Name == "grafana-provisioning").Data["datasources.yaml"];
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var source = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)stream.Documents.Single().RootNode)["datasources"]).Children.Single();
        return source.Children.Where(c => c.Value is YamlScalarNode)
            .ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value!);
    }
}
