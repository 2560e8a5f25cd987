using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.FaultyPlugin;

/// <summary>Where the plugin throws, from its <c>FailIn</c> setting.</summary>
public enum FailurePhase
{
    None,
    Loading,
    Running,
    Events,
    Flushing,
    Writing,
}

public sealed class FaultyOptions
{
    public FailurePhase FailIn { get; set; }
}

public sealed class FaultyPlugin : IPlugin
{
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        // Strict like a real plugin: an unknown key fails, which proves the host strips its own keys (Plugin, Enabled, Buffer).
        var options = new FaultyOptions();
        context.Configuration.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        var phase = options.FailIn;
        if (phase == FailurePhase.Loading)
        {
            throw new InvalidOperationException("faulty plugin: failing while loading, as configured");
        }

        services.AddSingleton(new FaultyComponent(phase));
        services.AddSingleton<IProbe>(sp => sp.GetRequiredService<FaultyComponent>());
        services.AddSingleton<IPointSink>(sp => sp.GetRequiredService<FaultyComponent>());
        services.AddFlushable<FaultyComponent>();
        services.AddSingleton(new EventSubscription(typeof(HttpExchange), typeof(FaultyComponent)));
    }
}

/// <summary>Every kind of component at once, each throwing only in the configured phase.</summary>
public sealed class FaultyComponent(FailurePhase phase) : IProbe, IPointSink, IFlushable, IEventSubscriber<HttpExchange>
{
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(200), stoppingToken).ConfigureAwait(false);
        Throw(FailurePhase.Running);
        await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
    }

    public ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken)
    {
        Throw(FailurePhase.Writing);
        return ValueTask.CompletedTask;
    }

    public void Flush(long windowEndUnixNs, IPointWriter output) => Throw(FailurePhase.Flushing);

    public void OnEvents(ReadOnlySpan<HttpExchange> batch) => Throw(FailurePhase.Events);

    private void Throw(FailurePhase when)
    {
        if (phase == when)
        {
            throw new InvalidOperationException($"faulty plugin: failing while {when}, as configured");
        }
    }
}
