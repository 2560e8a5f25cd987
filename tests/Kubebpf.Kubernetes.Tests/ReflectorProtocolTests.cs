using static Kubebpf.Kubernetes.Tests.FakeKubernetesApi;
using static Kubebpf.Kubernetes.Tests.ProviderHarness;

namespace Kubebpf.Kubernetes.Tests;

/// <summary>The watch protocol as the API documents it, seen from the fake server's side.</summary>
public sealed class ReflectorProtocolTests
{
    [Fact]
    public async Task Lists_then_watches_from_the_list_resource_version_with_bookmarks_and_the_node_selector()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        api.Apply(Pods, Objects.Pod("shop", "web-1", "11111111-1111-1111-1111-111111111111", Node, "10.0.1.5"));
        var listed = api.Revision;
        await using var harness = Start(api);
        await EventuallyAsync(() => api.OpenWatches == 5, "five open watches");

        var pods = api.Requests.Where(r => r.StartsWith(Pods + "?", StringComparison.Ordinal)).ToList();
        Assert.Equal($"{Pods}?fieldSelector=spec.nodeName%3Dnode-1&resourceVersion=0&watch=false", pods[0]);
        Assert.StartsWith($"{Pods}?allowWatchBookmarks=true&fieldSelector=spec.nodeName%3Dnode-1&resourceVersion={listed}&timeoutSeconds=", pods[1], StringComparison.Ordinal);
        Assert.EndsWith("&watch=true", pods[1], StringComparison.Ordinal);
        foreach (var resource in new[] { Services, EndpointSlices, ReplicaSets, Jobs })
        {
            Assert.Equal($"{resource}?resourceVersion=0&watch=false", api.Requests.First(r => r.StartsWith(resource + "?", StringComparison.Ordinal)));
        }

        await EventuallyAsync(() => harness.Metrics.Value("api_bookmarks") >= 5, "bookmarks");
        Assert.Equal(5, harness.Metrics.Value("api_lists"));
    }

    [Fact]
    public async Task A_dropped_watch_resumes_from_the_last_bookmark_without_listing_again()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        await using var harness = Start(api);
        await EventuallyAsync(() => api.OpenWatches == 5, "five open watches");
        api.Apply(Services, Objects.Service("shop", "web", "10.96.0.10"));
        await EventuallyAsync(() => harness.Resolve("10.96.0.10")?.Service == "web", "the service");
        var bookmarks = harness.Metrics.Value("api_bookmarks");
        await EventuallyAsync(() => harness.Metrics.Value("api_bookmarks") >= bookmarks + 5, "a bookmark on every watch after the change");
        var revision = api.Revision;

        api.DropConnections();
        await EventuallyAsync(() => api.OpenWatches == 5 && harness.Metrics.Value("api_errors") == 5, "five watches resumed");

        var resumed = api.Requests.Where(r => r.Contains("watch=true", StringComparison.Ordinal)).TakeLast(5).ToList();
        Assert.All(resumed, r => Assert.Contains($"resourceVersion={revision}&", r, StringComparison.Ordinal));
        Assert.Equal(5, harness.Metrics.Value("api_lists"));
        Assert.Equal("web", harness.Resolve("10.96.0.10")?.Service);
    }

    [Fact]
    public async Task A_410_error_event_makes_the_reflector_list_again_with_the_latest_state()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        api.BookmarkInterval = null;
        await using var harness = Start(api);
        await EventuallyAsync(() => api.OpenWatches == 5, "five open watches");

        api.ExpireWatches();
        await EventuallyAsync(() => harness.Metrics.Value("api_lists") == 10 && api.OpenWatches == 5, "five relists");

        Assert.Equal(5, harness.Metrics.Value("api_watch_expired"));
        Assert.Equal(0, harness.Metrics.Value("api_errors"));
        Assert.Equal($"{Services}?resourceVersion=&watch=false", api.Requests.Last(r => r.StartsWith(Services + "?resourceVersion", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_410_http_status_on_a_watch_makes_the_reflector_list_again()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        api.BookmarkInterval = null;
        await using var harness = Start(api);
        await EventuallyAsync(() => api.OpenWatches == 5, "five open watches");
        api.Apply(Services, Objects.Service("shop", "web", "10.96.0.10"));
        await EventuallyAsync(() => harness.Resolve("10.96.0.10") is not null, "the service");

        // A change and a compaction while the server is down: resuming from the old resourceVersion is answered 410.
        api.GoneAsHttpStatus = true;
        await api.RestartAsync(TimeSpan.FromMilliseconds(200), () =>
        {
            api.Apply(Services, Objects.Service("shop", "api", "10.96.0.11"));
            api.Compact();
        });
        await EventuallyAsync(() => harness.Resolve("10.96.0.11")?.Service == "api", "the service added while the API was down");

        await EventuallyAsync(() => api.OpenWatches == 5, "five watches");
        Assert.Equal(10, harness.Metrics.Value("api_lists"));
        Assert.Equal(5, harness.Metrics.Value("api_watch_expired"));
    }

    [Fact]
    public async Task Backoff_doubles_from_the_minimum_up_to_the_maximum_with_jitter_in_the_upper_half()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        await using var harness = Start(api);
        var reflector = new Cache.Reflector<k8s.Models.V1Service, Cache.ServiceRecord>(
            "services", (_, _) => throw new NotSupportedException(), (_, _, _, _) => throw new NotSupportedException(),
            Cache.Projections.Service, new Cache.ResourceStore<Cache.ServiceRecord>(() => { }), harness.Options,
            new Cache.ReflectorCounters(new Testing.TestAgentMetrics()), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        foreach (var (failures, ceilingMs) in new[] { (1, 50), (2, 100), (3, 200), (4, 400), (10, 400) })
        {
            for (var i = 0; i < 50; i++)
            {
                var delay = reflector.Backoff(failures).TotalMilliseconds;
                Assert.InRange(delay, ceilingMs / 2.0, ceilingMs);
            }
        }
    }
}
