using static Kubebpf.Kubernetes.Tests.FakeKubernetesApi;
using static Kubebpf.Kubernetes.Tests.ProviderHarness;

namespace Kubebpf.Kubernetes.Tests;

/// <summary>The provider against the API fake: owners, services, other nodes, host network, and a cache that ends right after churn.</summary>
public sealed class ProviderChurnTests
{
    private const string WebUid = "0a1b2c3d-0000-4000-8000-000000000001";

    [Fact]
    public async Task Names_pods_by_their_owning_workload_and_service_and_other_nodes_pods_and_cluster_ips_by_their_slices()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        Seed(api);
        await using var harness = Start(api);
        await EventuallyAsync(() => harness.Source.Synced && harness.Resolve("10.0.1.5") is not null, "synced");

        Assert.Equal(Id("shop", "web-7d9f6c5b8-x2k4p", "Deployment", "web", "web", Node), harness.Who("10.0.1.5"));
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web", ["tier"] = "front" }, harness.Resolve("10.0.1.5")!.Labels);
        Assert.Equal(Id("shop", "db-0", "StatefulSet", "db", "", Node), harness.Who("10.0.1.6"));
        Assert.Equal(Id("ops", "report-28590000-q7x2z", "CronJob", "report", "", Node), harness.Who("10.0.1.7"));
        Assert.Equal(Id("ops", "once-5k2jd", "Job", "once", "", Node), harness.Who("10.0.1.8"));
        Assert.Equal(Id("kube-system", "fluent-bit-8xk2p", "DaemonSet", "fluent-bit", "", Node), harness.Who("10.0.1.9"));
        Assert.Equal(Id("shop", "debug", "Pod", "debug", "", Node), harness.Who("10.0.1.10"));
        Assert.Equal(Id("shop", "web-7d9f6c5b8-x2k4p", "Deployment", "web", "web", Node), harness.Who("fd00:10::5"));

        // Another node's pods are known through the slices of their services; the pod watch never lists them.
        Assert.Equal(Id("shop", "web-7d9f6c5b8-m4n8r", "Deployment", "web", "web", "node-2"), harness.Who("10.0.2.7"));
        Assert.Equal(Id("shop", "cache-1", "StatefulSet", "cache", "cache", "node-2"), harness.Who("10.0.2.8"));
        Assert.Equal(Id("shop", "", "Service", "legacy", "legacy", ""), harness.Who("192.168.70.4"));
        Assert.Null(harness.Who("10.0.2.99"));

        // Cluster IPs: the service, and the workload behind it when it is one.
        Assert.Equal(Id("shop", "", "Deployment", "web", "web", ""), harness.Who("10.96.0.10"));
        Assert.Equal(Id("shop", "", "StatefulSet", "cache", "cache", ""), harness.Who("10.96.0.12"));

        // Host network: the declared ports name the pod, other ports of the node's address name the node.
        Assert.Equal(Id("monitoring", "node-exporter-abcde", "DaemonSet", "node-exporter", "", Node), harness.Who("192.168.50.10", 9100));
        Assert.Equal(Id("", Node, "Host", Node, "", Node), harness.Who("192.168.50.10", 22));
        Assert.Null(harness.Who("10.0.3.1"));
        Assert.Equal(3, harness.Metrics.Value("services"));
        Assert.Equal(7, harness.Metrics.Value("local_pods"));
        Assert.True(File.Exists(Path.Combine(harness.Options.HealthDirectory, "ready")));
    }

    [Fact]
    public async Task After_pods_are_added_relabelled_and_deleted_across_an_api_restart_and_a_410_the_cache_is_exactly_the_api_state()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        Seed(api);
        await using var harness = Start(api);
        await EventuallyAsync(() => harness.Source.Synced && harness.Resolve("10.0.1.5") is not null, "synced");

        api.Apply(Pods, Objects.Pod("shop", "web-7d9f6c5b8-z9y8x", "0a1b2c3d-0000-4000-8000-000000000020", Node, "10.0.1.20", ("ReplicaSet", "web-7d9f6c5b8")));
        api.Apply(Pods, Objects.Pod("shop", "web-7d9f6c5b8-x2k4p", WebUid, Node, "10.0.1.5", ("ReplicaSet", "web-7d9f6c5b8"),
            new() { ["app"] = "web", ["tier"] = "canary" }, ipv6: "fd00:10::5"));
        api.Delete(Pods, "shop", "debug");
        await EventuallyAsync(() => harness.Resolve("10.0.1.10") is null && harness.Resolve("10.0.1.20") is not null, "first churn");

        // Changes while the API is down are delivered on reconnection, from the last resourceVersion.
        await api.RestartAsync(TimeSpan.FromMilliseconds(300), () =>
        {
            api.Delete(Pods, "ops", "once-5k2jd");
            api.Apply(Pods, Objects.Pod("ops", "report-28590060-b8c9d", "0a1b2c3d-0000-4000-8000-000000000021", Node, "10.0.1.21", ("Job", "report-28590060")));
            api.Apply(Jobs, Objects.Job("ops", "report-28590060", "report"));
        });
        await EventuallyAsync(() => harness.Resolve("10.0.1.21")?.WorkloadKind == "CronJob", "changes made while the API was down");

        // A 410 with more churn in between: the relist replaces the cache.
        await EventuallyAsync(() => api.OpenWatches == 5, "every watch resumed");
        api.ExpireWatches();
        api.Apply(Pods, Objects.Pod("shop", "db-1", "0a1b2c3d-0000-4000-8000-000000000022", Node, "10.0.1.22", ("StatefulSet", "db")));
        api.Delete(Pods, "shop", "db-0");
        api.Apply(Pods, Objects.Pod("ops", "report-28590000-q7x2z", "0a1b2c3d-0000-4000-8000-000000000003", Node, "10.0.1.7", ("Job", "report-28590000"), phase: "Succeeded"));
        await EventuallyAsync(() => harness.Resolve("10.0.1.22") is not null && harness.Resolve("10.0.1.6") is null, "churn after the 410");

        var expected = new Dictionary<string, string?>
        {
            ["10.0.1.5"] = Id("shop", "web-7d9f6c5b8-x2k4p", "Deployment", "web", "web", Node),
            ["10.0.1.6"] = null,
            ["10.0.1.7"] = null, // succeeded: its IP may already be someone else's
            ["10.0.1.8"] = null,
            ["10.0.1.9"] = Id("kube-system", "fluent-bit-8xk2p", "DaemonSet", "fluent-bit", "", Node),
            ["10.0.1.10"] = null,
            ["10.0.1.20"] = Id("shop", "web-7d9f6c5b8-z9y8x", "Deployment", "web", "", Node),
            ["10.0.1.21"] = Id("ops", "report-28590060-b8c9d", "CronJob", "report", "", Node),
            ["10.0.1.22"] = Id("shop", "db-1", "StatefulSet", "db", "", Node),
        };
        Assert.Equal(expected, expected.Keys.ToDictionary(ip => ip, ip => harness.Who(ip)));
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web", ["tier"] = "canary" }, harness.Resolve("10.0.1.5")!.Labels);
        Assert.Equal(7, harness.Metrics.Value("local_pods")); // the succeeded pod stays listed by the API
        Assert.Equal(5, harness.Metrics.Value("api_watch_expired"));
        Assert.Equal(10, harness.Metrics.Value("api_lists"));
    }

    /// <summary>node-1's pods of every owner kind, a host-network pod, another node's pods, services and slices.</summary>
    private static void Seed(FakeKubernetesApi api)
    {
        api.Apply(ReplicaSets, Objects.ReplicaSet("shop", "web-7d9f6c5b8", "web"));
        api.Apply(Jobs, Objects.Job("ops", "report-28590000", "report"));
        api.Apply(Jobs, Objects.Job("ops", "once", null));
        api.Apply(Pods, Objects.Pod("shop", "web-7d9f6c5b8-x2k4p", WebUid, Node, "10.0.1.5", ("ReplicaSet", "web-7d9f6c5b8"),
            new() { ["app"] = "web", ["tier"] = "front" }, ipv6: "fd00:10::5"));
        api.Apply(Pods, Objects.Pod("shop", "db-0", "0a1b2c3d-0000-4000-8000-000000000002", Node, "10.0.1.6", ("StatefulSet", "db")));
        api.Apply(Pods, Objects.Pod("ops", "report-28590000-q7x2z", "0a1b2c3d-0000-4000-8000-000000000003", Node, "10.0.1.7", ("Job", "report-28590000")));
        api.Apply(Pods, Objects.Pod("ops", "once-5k2jd", "0a1b2c3d-0000-4000-8000-000000000004", Node, "10.0.1.8", ("Job", "once")));
        api.Apply(Pods, Objects.Pod("kube-system", "fluent-bit-8xk2p", "0a1b2c3d-0000-4000-8000-000000000005", Node, "10.0.1.9", ("DaemonSet", "fluent-bit")));
        api.Apply(Pods, Objects.Pod("shop", "debug", "0a1b2c3d-0000-4000-8000-000000000006", Node, "10.0.1.10"));
        api.Apply(Pods, Objects.Pod("monitoring", "node-exporter-abcde", "0a1b2c3d-0000-4000-8000-000000000007", Node, "192.168.50.10",
            ("DaemonSet", "node-exporter"), hostNetwork: true, ports: [9100]));
        api.Apply(Pods, Objects.Pod("shop", "web-7d9f6c5b8-m4n8r", "0a1b2c3d-0000-4000-8000-000000000008", "node-2", "10.0.3.1", ("ReplicaSet", "web-7d9f6c5b8")));
        api.Apply(Services, Objects.Service("shop", "web", "10.96.0.10"));
        api.Apply(Services, Objects.Service("shop", "cache", "10.96.0.12"));
        api.Apply(Services, Objects.Service("shop", "legacy", null));
        api.Apply(EndpointSlices, Objects.EndpointSlice("shop", "web", ("10.0.1.5", "web-7d9f6c5b8-x2k4p", Node), ("10.0.2.7", "web-7d9f6c5b8-m4n8r", "node-2")));
        api.Apply(EndpointSlices, Objects.EndpointSlice("shop", "cache", ("10.0.2.8", "cache-1", "node-2")));
        api.Apply(EndpointSlices, Objects.EndpointSlice("shop", "legacy", ("192.168.70.4", null, "")));
    }
}
