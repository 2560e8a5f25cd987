using Kubebpf.Kubernetes.Attach;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Kubernetes.Tests;

/// <summary>The metadata source running against a <see cref="FakeKubernetesApi"/> through KubernetesClient and a kubeconfig.</summary>
internal sealed class ProviderHarness : IAsyncDisposable
{
    public const string Node = "node-1";
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    private ProviderHarness(FakeKubernetesApi api, string directory, PodInterfaceFinder? finder)
    {
        Api = api;
        Directory = directory;
        Options = new KubernetesOptions
        {
            NodeName = Node,
            KubeConfig = api.WriteKubeConfig(directory),
            MinBackoff = TimeSpan.FromMilliseconds(50),
            MaxBackoff = TimeSpan.FromMilliseconds(400),
            InterfaceScanInterval = TimeSpan.FromMilliseconds(100),
            HealthDirectory = Path.Combine(directory, "health"),
        };
        Source = new KubernetesMetadataSource(
            Options, KubernetesConnection.Create(Options.KubeConfig), Metrics, NullLogger.Instance,
            finder ?? new PodInterfaceFinder(Path.Combine(directory, "proc"), Path.Combine(directory, "sys/class/net"), NullLogger.Instance));
        _run = Source.RunAsync(_stop.Token);
    }

    public FakeKubernetesApi Api { get; }

    public string Directory { get; }

    public KubernetesOptions Options { get; }

    public TestAgentMetrics Metrics { get; } = new();

    public KubernetesMetadataSource Source { get; }

    public static ProviderHarness Start(FakeKubernetesApi api, PodInterfaceFinder? finder = null) =>
        new(api, System.IO.Directory.CreateTempSubdirectory("kubebpf-k8s-").FullName, finder);

    public WorkloadIdentity? Resolve(string ip, ushort port = 80) => Source.ResolveEndpoint(NetworkEndpoint.From(System.Net.IPAddress.Parse(ip), port));

    /// <summary>What <see cref="Resolve"/> answers, as "namespace/pod Kind/name service=... node=..." (labels aside).</summary>
    public string? Who(string ip, ushort port = 80) => Resolve(ip, port) is { } w ? Id(w.Namespace, w.Pod, w.WorkloadKind, w.WorkloadName, w.Service, w.Node) : null;

    public static string Id(string @namespace, string pod, string kind, string name, string service, string node) =>
        $"{@namespace}/{pod} {kind}/{name} service={service} node={node}";

    /// <summary>Polls <paramref name="condition"/> every 20 ms; fails with <paramref name="what"/> after <paramref name="timeout"/> (default 5 s).</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(5));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for: {what}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
