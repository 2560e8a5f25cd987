using System.Net;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kubebpf.FaultyPlugin;

/// <summary>Where the plugin throws, from its <c>FailIn</c> setting.</summary>
public enum FailurePhase
{
    None,
    Loading,

    /// <summary>The probe throws before it reports attachment.</summary>
    Attaching,

    /// <summary>The probe throws after it reported attachment.</summary>
    Running,
    Events,
    Flushing,
    Writing,

    /// <summary>The probe loads an eBPF object the kernel verifier rejects (needs root).</summary>
    Verifier,
}

public sealed class FaultyOptions
{
    public FailurePhase FailIn { get; set; }

    /// <summary>Reported as the <c>marker</c> gauge: shows which configuration an instance got.</summary>
    public long Marker { get; set; }
}

public sealed class FaultyPlugin : IPlugin
{
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        // Strict like a real plugin: an unknown key fails, which proves the host strips its own keys (Plugin, Enabled, Buffer).
        var options = new FaultyOptions();
        context.Configuration.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        if (options.FailIn == FailurePhase.Loading)
        {
            throw new InvalidOperationException("faulty plugin: failing while loading, as configured");
        }

        services.AddSingleton(options);
        services.AddSingleton<FaultyComponent>();
        services.AddSingleton<IProbe>(sp => sp.GetRequiredService<FaultyComponent>());
        services.AddSingleton<IPointSink>(sp => sp.GetRequiredService<FaultyComponent>());
        services.AddFlushable<FaultyComponent>();
        services.AddSingleton(new EventSubscription(typeof(Exchange), typeof(FaultyComponent)));
    }
}

/// <summary>Every kind of component at once, each throwing only in the configured phase.</summary>
public sealed class FaultyComponent : IProbe, IReportsAttachment, IPointSink, IFlushable, IEventSubscriber<Exchange>
{
    // A protocol of its own, so that what the R.E.D. plugin makes of this exchange never mixes with real HTTP traffic.
    private static readonly Exchange Published = new()
    {
        Protocol = new ProtocolDescriptor("faulty"), Operation = "GET", Resource = "/", Code = 200, Status = "2xx", Outcome = ExchangeOutcome.Success,
        StartUnixNs = 1, DurationNs = 1, Transport = Transport.Tcp, Direction = TrafficDirection.In,
        Client = NetworkEndpoint.From(IPAddress.Loopback, 40000), Server = NetworkEndpoint.From(IPAddress.Loopback, 80), Interface = "lo",
    };

    private readonly FailurePhase _phase;
    private readonly IEventPublisher<Exchange> _publisher;
    private readonly ILogger<FaultyComponent> _logger;
    private readonly TaskCompletionSource _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FaultyComponent(FaultyOptions options, IEventPublisher<Exchange> publisher, IAgentMetrics metrics, ILogger<FaultyComponent> logger)
    {
        _phase = options.FailIn;
        _publisher = publisher;
        _logger = logger;
        metrics.Gauge("marker", "the Marker setting of this instance", () => options.Marker);
    }

    public Task Attached => _attached.Task;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        if (_phase == FailurePhase.Verifier)
        {
            LoadRejectedObject();
        }

        await Task.Delay(TimeSpan.FromMilliseconds(200), stoppingToken).ConfigureAwait(false);
        Throw(FailurePhase.Attaching);
        _attached.TrySetResult();
        Throw(FailurePhase.Running);
        _publisher.Publish([Published]); // every instance's subscriber gets one batch
        await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
    }

    private void LoadRejectedObject()
    {
        using var stream = typeof(FaultyComponent).Assembly.GetManifestResourceStream("rejected.bpf.o")!;
        var elf = new byte[stream.Length];
        stream.ReadExactly(elf);
        using var bpf = BpfObject.OpenMemory(elf, "rejected", _logger);
        bpf.Load();
    }

    public ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken)
    {
        Throw(FailurePhase.Writing);
        return ValueTask.CompletedTask;
    }

    public void Flush(long windowEndUnixNs, IPointWriter output) => Throw(FailurePhase.Flushing);

    public void OnEvents(ReadOnlySpan<Exchange> batch) => Throw(FailurePhase.Events);

    private void Throw(FailurePhase when)
    {
        if (_phase == when)
        {
            throw new InvalidOperationException($"faulty plugin: failing while {when}, as configured");
        }
    }
}
