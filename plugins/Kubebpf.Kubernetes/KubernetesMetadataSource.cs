using k8s;
using k8s.Models;
using Kubebpf.Kubernetes.Attach;
using Kubebpf.Kubernetes.Cache;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Kubernetes;

/// <summary>
/// Workload identity from the Kubernetes API. Its probe runs one reflector per resource (this node's pods by field
/// selector; services, endpoint slices, ReplicaSets and Jobs cluster-wide) and a maintenance loop that finds local
/// pods' host interfaces and rebuilds the lookup snapshot after changes (at most every
/// <see cref="RebuildDelay"/>). Lookups read the current snapshot: thread-safe, non-blocking, allocation-free.
/// </summary>
public sealed partial class KubernetesMetadataSource : IWorkloadMetadataSource, IProbe, IFlushable
{
    /// <summary>Changes arriving together (a relist, a rollout) are folded into one rebuild.</summary>
    internal static readonly TimeSpan RebuildDelay = TimeSpan.FromMilliseconds(50);

    private readonly KubernetesOptions _options;
    private readonly ILogger _logger;
    private readonly PodInterfaceFinder _finder;
    private readonly SemaphoreSlim _changed = new(0, 1);
    private readonly ResourceStore<PodRecord> _pods;
    private readonly ResourceStore<ServiceRecord> _services;
    private readonly ResourceStore<SliceRecord> _slices;
    private readonly ResourceStore<OwnedRecord> _replicaSets;
    private readonly ResourceStore<OwnedRecord> _jobs;
    private readonly Func<CancellationToken, Task>[] _reflectors;
    private MetadataSnapshot _snapshot = MetadataSnapshot.Empty;
    private int _dirty;
    private long _podsWithoutInterface;

    /// <summary>Creates the source; nothing is requested from the API before <see cref="RunAsync"/>.</summary>
    public KubernetesMetadataSource(KubernetesOptions options, IKubernetes client, IAgentMetrics metrics, ILogger<KubernetesMetadataSource> logger)
        : this(options, client, metrics, logger, new PodInterfaceFinder("/proc", "/sys/class/net", logger))
    {
    }

    internal KubernetesMetadataSource(KubernetesOptions options, IKubernetes client, IAgentMetrics metrics, ILogger logger, PodInterfaceFinder finder)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(metrics);
        _options = options;
        _logger = logger;
        _finder = finder;
        _pods = new(MarkChanged);
        _services = new(MarkChanged);
        _slices = new(MarkChanged);
        _replicaSets = new(MarkChanged);
        _jobs = new(MarkChanged);

        var counters = new ReflectorCounters(metrics);
        var nodeSelector = $"spec.nodeName={options.NodeName}";
        _reflectors =
        [
            new Reflector<V1Pod, PodRecord>(
                "pods",
                async (rv, ct) => Result(await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: nodeSelector, resourceVersion: rv, cancellationToken: ct)),
                (rv, timeout, onError, ct) => client.CoreV1.WatchListPodForAllNamespacesAsync(
                    allowWatchBookmarks: true, fieldSelector: nodeSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct),
                Projections.Pod, _pods, options, counters, logger).RunAsync,
            new Reflector<V1Service, ServiceRecord>(
                "services",
                async (rv, ct) => Result(await client.CoreV1.ListServiceForAllNamespacesAsync(resourceVersion: rv, cancellationToken: ct)),
                (rv, timeout, onError, ct) => client.CoreV1.WatchListServiceForAllNamespacesAsync(
                    allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct),
                Projections.Service, _services, options, counters, logger).RunAsync,
            new Reflector<V1EndpointSlice, SliceRecord>(
                "endpointslices",
                async (rv, ct) => Result(await client.DiscoveryV1.ListEndpointSliceForAllNamespacesAsync(resourceVersion: rv, cancellationToken: ct)),
                (rv, timeout, onError, ct) => client.DiscoveryV1.WatchListEndpointSliceForAllNamespacesAsync(
                    allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct),
                Projections.Slice, _slices, options, counters, logger).RunAsync,
            new Reflector<V1ReplicaSet, OwnedRecord>(
                "replicasets",
                async (rv, ct) => Result(await client.AppsV1.ListReplicaSetForAllNamespacesAsync(resourceVersion: rv, cancellationToken: ct)),
                (rv, timeout, onError, ct) => client.AppsV1.WatchListReplicaSetForAllNamespacesAsync(
                    allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct),
                Projections.ReplicaSet, _replicaSets, options, counters, logger).RunAsync,
            new Reflector<V1Job, OwnedRecord>(
                "jobs",
                async (rv, ct) => Result(await client.BatchV1.ListJobForAllNamespacesAsync(resourceVersion: rv, cancellationToken: ct)),
                (rv, timeout, onError, ct) => client.BatchV1.WatchListJobForAllNamespacesAsync(
                    allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct),
                Projections.Job, _jobs, options, counters, logger).RunAsync,
        ];

        metrics.Gauge("local_pods", "this node's pods in the cache", () => _pods.Count);
        metrics.Gauge("services", "services in the cache", () => _services.Count);
        metrics.Gauge("pods_without_interface", "this node's pods (not host-network) whose host interface is not found yet", () => Volatile.Read(ref _podsWithoutInterface));
        metrics.Gauge("addresses", "addresses (pods, cluster IPs, host ports) that resolve", () => Volatile.Read(ref _snapshot).EndpointCount);
    }

    /// <summary>True once every resource was listed.</summary>
    public bool Synced => _pods.Synced && _services.Synced && _slices.Synced && _replicaSets.Synced && _jobs.Synced;

    /// <inheritdoc />
    public WorkloadIdentity? ResolveEndpoint(in NetworkEndpoint endpoint) => Volatile.Read(ref _snapshot).ResolveEndpoint(endpoint);

    /// <inheritdoc />
    public WorkloadIdentity? ResolveInterface(string interfaceName)
    {
        ArgumentNullException.ThrowIfNull(interfaceName);
        return Volatile.Read(ref _snapshot).ResolveInterface(interfaceName);
    }

    /// <summary>Runs the watches and the maintenance loop until <paramref name="stoppingToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        LogStarting(_options.NodeName);
        await Task.WhenAll([.. _reflectors.Select(run => Task.Run(() => run(stoppingToken), CancellationToken.None)), MaintainAsync(stoppingToken)]);
    }

    /// <summary>Touches the liveness file: the host's flush loop runs.</summary>
    public void Flush(long windowEndUnixNs, IPointWriter output)
    {
        if (_options.HealthDirectory.Length > 0)
        {
            WriteHealthFile("alive");
        }
    }

    private void MarkChanged()
    {
        Interlocked.Exchange(ref _dirty, 1);
        if (_changed.CurrentCount == 0)
        {
            try
            {
                _changed.Release();
            }
            catch (SemaphoreFullException)
            {
                // another writer signalled first: one rebuild covers both
            }
        }
    }

    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        var reportedSynced = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (await _changed.WaitAsync(_options.InterfaceScanInterval, cancellationToken))
                {
                    await Task.Delay(RebuildDelay, cancellationToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // Clear the flag before reading the stores: a change racing with this pass marks the next one.
            var dirty = Interlocked.Exchange(ref _dirty, 0) == 1;
            var pods = _pods.Items();
            var wanted = pods.Where(p => !p.HostNetwork && !p.Terminated && p.Uid.Length > 0).Select(p => p.Uid).ToHashSet(StringComparer.Ordinal);
            try
            {
                dirty |= _finder.Update(wanted);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // pods stay named by their IPs; the next scan tries again
                LogMaintenanceFailed(e.Message);
            }

            Volatile.Write(ref _podsWithoutInterface, _finder.Missing);
            if (dirty)
            {
                Volatile.Write(ref _snapshot, MetadataSnapshot.Build(new MetadataInputs(
                    _options.NodeName, pods, _services.Items(), _slices.Items(), _replicaSets.Items(), _jobs.Items(), _finder.Interfaces)));
            }

            if (!reportedSynced && Synced)
            {
                reportedSynced = true;
                LogSynced(pods.Length, _services.Count);
                if (_options.HealthDirectory.Length > 0)
                {
                    WriteHealthFile("ready");
                }
            }
        }
    }

    private void WriteHealthFile(string name)
    {
        try
        {
            Directory.CreateDirectory(_options.HealthDirectory);
            File.WriteAllText(Path.Combine(_options.HealthDirectory, name), DateTimeOffset.UtcNow.ToString("O"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogMaintenanceFailed(e.Message);
        }
    }

    private static (IList<T> Items, string ResourceVersion) Result<T>(IItems<T> list) where T : IKubernetesObject =>
        (list.Items, ((IMetadata<V1ListMeta>)list).Metadata.ResourceVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watching the Kubernetes API for node {Node}'s pods and the cluster's services")]
    private partial void LogStarting(string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kubernetes metadata synced: {Pods} pods on this node, {Services} services")]
    private partial void LogSynced(int pods, int services);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kubernetes metadata maintenance: {Error}")]
    private partial void LogMaintenanceFailed(string error);
}
