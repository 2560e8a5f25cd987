using Kubebpf.Agent.Sinks;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.Agent.Plugins;

/// <summary>What became of a configured plugin instance.</summary>
internal enum PluginState
{
    Disabled,
    NotFound,
    Loaded,
    Running,
    Failed,
    Stopped,
}

/// <summary>
/// One configured plugin instance: its container and the components it registered. A failure in any phase marks
/// the instance failed (with the phase and the error) and stops its components; other instances carry on.
/// </summary>
internal sealed class PluginInstance(string instanceName, PluginDescriptor? descriptor) : IAsyncDisposable
{
    private int _failed;

    public string InstanceName { get; } = instanceName;

    public PluginDescriptor? Descriptor { get; } = descriptor;

    public PluginState State { get; private set; } = descriptor is null ? PluginState.NotFound : PluginState.Loaded;

    /// <summary>Why the instance failed or was not found.</summary>
    public string? Error { get; private set; }

    public ServiceProvider? Services { get; private set; }

    /// <summary>The buffering of this instance's sinks (its <c>Buffer</c> section).</summary>
    public SinkPumpOptions Buffer { get; init; } = new();

    public IReadOnlyList<IProbe> Probes { get; private set; } = [];

    public IReadOnlyList<IPointSink> Sinks { get; private set; } = [];

    public IReadOnlyList<IWorkloadMetadataSource> MetadataSources { get; private set; } = [];

    public IReadOnlyList<IPeerNameSource> PeerNameSources { get; private set; } = [];

    public IReadOnlyList<IFlushable> Flushables { get; private set; } = [];

    public IReadOnlyList<IStreamProtocol> StreamProtocols { get; private set; } = [];

    public IReadOnlyList<IDatagramProtocol> DatagramProtocols { get; private set; } = [];

    public IReadOnlyList<EventSubscription> Subscriptions { get; private set; } = [];

    /// <summary>Commands the plugin adds to the command line.</summary>
    public IReadOnlyList<IAgentCommand> Commands { get; private set; } = [];

    /// <summary>The measurements the instance declares it writes.</summary>
    public IReadOnlyList<MeasurementContract> Outputs { get; private set; } = [];

    /// <summary>Cancelled when the instance fails, so its probes stop.</summary>
    public CancellationTokenSource Stopping { get; } = new();

    public bool IsActive => State is PluginState.Loaded or PluginState.Running;

    public static PluginInstance Disabled(string instanceName) => new(instanceName, null) { State = PluginState.Disabled };

    public static PluginInstance Missing(string instanceName, string error) => new(instanceName, null) { Error = error };

    public void Attach(ServiceProvider services)
    {
        Services = services;
        Probes = [.. services.GetServices<IProbe>()];
        Sinks = [.. services.GetServices<IPointSink>()];
        MetadataSources = [.. services.GetServices<IWorkloadMetadataSource>()];
        PeerNameSources = [.. services.GetServices<IPeerNameSource>()];
        Flushables = [.. services.GetServices<IFlushable>()];
        StreamProtocols = [.. services.GetServices<IStreamProtocol>()];
        DatagramProtocols = [.. services.GetServices<IDatagramProtocol>()];
        Subscriptions = [.. services.GetServices<EventSubscription>()];
        Commands = [.. services.GetServices<IAgentCommand>()];
        Outputs = [.. services.GetServices<MeasurementContract>()];
    }

    public void MarkRunning()
    {
        if (IsActive)
        {
            State = PluginState.Running;
        }
    }

    public void MarkStopped()
    {
        if (IsActive)
        {
            State = PluginState.Stopped;
        }
    }

    /// <summary>Records the first failure; returns false when the instance had already failed.</summary>
    public bool Fail(string phase, Exception error)
    {
        if (Interlocked.Exchange(ref _failed, 1) == 1)
        {
            return false;
        }

        State = PluginState.Failed;
        Error = $"{phase}: {error.GetType().Name}: {error.Message}";
        Stopping.Cancel();
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (Services is not null)
        {
            await Services.DisposeAsync();
        }

        Stopping.Dispose();
    }
}
