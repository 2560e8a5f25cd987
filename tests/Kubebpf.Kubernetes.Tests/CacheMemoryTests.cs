using Xunit.Abstractions;
using static Kubebpf.Kubernetes.Tests.FakeKubernetesApi;
using static Kubebpf.Kubernetes.Tests.ProviderHarness;

namespace Kubebpf.Kubernetes.Tests;

/// <summary>What the cache costs at scale: 10,000 pods and 5,000 services (with their slices and ReplicaSets).</summary>
public sealed class CacheMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ten_thousand_pods_and_five_thousand_services_cost_less_than_30_MB_of_managed_memory()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        api.BookmarkInterval = null;
        for (var s = 0; s < 5_000; s++)
        {
            var service = $"svc-{s}";
            var replicaSet = $"{service}-7d9f6c5b8";
            api.Apply(ReplicaSets, Objects.ReplicaSet("ns-" + (s % 50), replicaSet, service));
            api.Apply(Services, Objects.Service("ns-" + (s % 50), service, $"10.96.{s / 250}.{s % 250}"));
            var endpoints = new (string, string?, string)[2];
            for (var p = 0; p < 2; p++)
            {
                var i = (s * 2) + p;
                var ip = $"10.{1 + (i / 62500)}.{i / 250 % 250}.{i % 250}";
                var pod = $"{replicaSet}-p{i:x5}";
                endpoints[p] = (ip, pod, Node);
                api.Apply(Pods, Objects.Pod("ns-" + (s % 50), pod, $"00000000-0000-4000-8000-{i:x12}", Node, ip, ("ReplicaSet", replicaSet),
                    new() { ["app"] = service, ["pod-template-hash"] = "7d9f6c5b8" }));
            }

            api.Apply(EndpointSlices, Objects.EndpointSlice("ns-" + (s % 50), service, endpoints));
        }

        // A first source on an empty API pays the one-off costs (JSON contracts, HTTP stack, JIT): not the cache's.
        await using var empty = await FakeKubernetesApi.StartAsync();
        await using var warm = Start(empty);
        await EventuallyAsync(() => warm.Source.Synced, "the warm-up source synced");
        var before = Managed();
        var alive = await SyncAndMeasureAsync(api);
        await Task.Delay(500);
        var after = Managed();
        var cost = alive - after;

        // What stays once the source is gone is not the cache: buffers pooled while reading a 10,000-pod list.
        output.WriteLine($"cache + snapshot for 10,000 pods, 5,000 services, 5,000 slices, 5,000 ReplicaSets: {cost / 1e6:F1} MB managed; pooled buffers left after the source: {(after - before) / 1e6:F1} MB");
        Assert.InRange(cost, 1, 30_000_000);
    }

    private static async Task<long> SyncAndMeasureAsync(FakeKubernetesApi api)
    {
        await using var harness = Start(api);
        // A pod's service comes from its endpoint slice, which may be applied after the pods and services are counted.
        var expected = Id("ns-7", "svc-57-7d9f6c5b8-p00073", "Deployment", "svc-57", "svc-57", Node);
        await EventuallyAsync(
            () => harness.Source.Synced && harness.Metrics.Value("addresses") == 15_001 && harness.Who("10.1.0.115") == expected,
            $"10,000 pods, 5,000 services, and 10.1.0.115 known as {expected}",
            TimeSpan.FromSeconds(60));
        Assert.Equal(10_000, harness.Metrics.Value("local_pods"));
        return Managed();
    }

    private static long Managed()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
