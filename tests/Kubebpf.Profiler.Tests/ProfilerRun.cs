using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Net;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Profiler.Tests;

/// <summary>The profiler probe running in the test process on the real kernel; <see cref="StopAsync"/> returns what it wrote.</summary>
internal sealed class ProfilerRun : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    private ProfilerRun(ProfilerOptions options, IWorkloadResolver resolver)
    {
        var probe = new ProfilerProbe(options, resolver, Output, Metrics, TimeProvider.System, NullLogger<ProfilerProbe>.Instance);
        _run = Task.Run(() => probe.RunAsync(_stop.Token));
        Poll.Until(() => Metrics.Value("sampled_cpus") > 0 || _run.IsCompleted, "the profiler to attach to the CPUs", timeout: TimeSpan.FromSeconds(20));
        if (_run.IsFaulted)
        {
            _run.GetAwaiter().GetResult();
        }
    }

    public CollectingPointWriter Output { get; } = new();

    public TestAgentMetrics Metrics { get; } = new();

    /// <summary>Starts sampling; returns once every CPU is sampled.</summary>
    public static ProfilerRun Start(ProfilerOptions options, IWorkloadResolver? resolver = null) => new(options, resolver ?? new NoWorkloads());

    /// <summary>Stops (the probe reads the last samples and writes the window) and returns the points written.</summary>
    public async Task<IReadOnlyList<MetricPoint>> StopAsync()
    {
        await _stop.CancelAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(30));
        return Output.Points;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_run.IsCompleted)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }

    private sealed class NoWorkloads : IWorkloadResolver
    {
        public WorkloadIdentity? ResolveEndpoint(in NetworkEndpoint endpoint) => null;

        public WorkloadIdentity? ResolveInterface(string interfaceName) => null;
    }
}
