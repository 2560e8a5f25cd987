using Kubebpf.Agent.Pipeline;
using Kubebpf.Agent.Plugins;
using Kubebpf.Agent.SelfMetrics;
using Kubebpf.Agent.Sinks;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Agent;

/// <summary>
/// Builds the configured plugin instances, wires them (metadata, events, sinks), runs them and stops them.
/// Knows no protocol: everything it runs comes from plugins.
/// </summary>
internal sealed partial class AgentRuntime : IAsyncDisposable
{
    private static readonly string[] HostKeys = ["Plugin", "Enabled", "Buffer"];

    private readonly IConfiguration _configuration;
    private readonly AgentOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _baseDirectory;
    private readonly PluginFactory _factory = new();
    private readonly AgentMetricsRegistry _metrics = new();
    private readonly EventBus _bus;
    private readonly CompositeWorkloadResolver _resolver = new();
    private readonly CompositePeerNameResolver _peerNames = new();
    private readonly PointRouter _router = new();
    private readonly ProtocolCatalog _protocols = new();
    private readonly List<PluginInstance> _instances = [];
    private readonly List<SinkPump> _pumps = [];
    private readonly List<Task> _probeTasks = [];
    private readonly List<Task> _sinkProbeTasks = [];
    private readonly List<Task> _pumpTasks = [];
    private readonly CancellationTokenSource _stopProbes = new();
    private readonly CancellationTokenSource _stopPumps = new();
    private readonly CancellationTokenSource _stopSinkProbes = new();
    private readonly CancellationTokenSource _noProbeRunning = new();
    private readonly Lock _readinessLock = new();
    private readonly Counter _pluginFailures;
    private readonly Dictionary<IFlushable, Task> _stuckFlushes = []; // touched by the flush loop, then by StopAsync after it
    private Task _flushLoop = Task.CompletedTask;

    /// <summary>
    /// What the probes of sink instances get to stop (a last send) when the drain used up the shutdown timeout; the host
    /// process waits this much beyond it (see Program).
    /// </summary>
    internal static readonly TimeSpan SinkProbesGrace = TimeSpan.FromSeconds(5);

    public AgentRuntime(IConfiguration configuration, AgentOptions options, ILoggerFactory loggerFactory, TimeProvider time, string baseDirectory)
    {
        _configuration = configuration;
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<AgentRuntime>();
        _time = time;
        _baseDirectory = baseDirectory;
        _pluginFailures = _metrics.For("agent").Counter("plugin_failures", "plugin instances stopped after an error");
        ProcessMetrics.Register(_metrics.For("agent"));
        _bus = new EventBus(options.SubscriberTimeout, _logger);
    }

    public IReadOnlyList<PluginInstance> Instances => _instances;

    public IReadOnlyList<PluginDescriptor> Discovered { get; private set; } = [];

    internal AgentMetricsRegistry Metrics => _metrics;

    /// <summary>Cancelled when every probe the agent started has failed: the agent observes nothing any more.</summary>
    public CancellationToken NoProbeRunning => _noProbeRunning.Token;

    /// <summary>Whether <see cref="NoProbeRunning"/> fired; still readable once the runtime is disposed.</summary>
    public bool StoppedWithoutProbes { get; private set; }

    /// <summary>Whether the readiness file says ready: every probe attached, none failed, not stopping.</summary>
    public bool IsReady { get; private set; }

    /// <summary>Discovers plugins and builds every configured instance; failures are recorded per instance.</summary>
    public void Build()
    {
        _options.Validate();
        Discovered = PluginCatalog.Discover(_options.PluginFolders, _baseDirectory);
        var sections = _configuration.GetSection("Plugins").GetChildren().ToList();
        if (sections.Count == 0)
        {
            throw new ConfigurationException("No plugin is configured: add a 'Plugins' section naming at least one plugin instance (see kubebpf.json).");
        }

        foreach (var section in sections)
        {
            _instances.Add(BuildInstance(section));
        }
    }

    /// <summary>After <see cref="Build"/>: an instance naming a plugin that is not there is a typo to fix, not a failure to isolate.</summary>
    /// <exception cref="ConfigurationException">Names every such instance and the plugins that were found.</exception>
    public void RequireAllPluginsFound()
    {
        var missing = _instances.Where(i => i.State == PluginState.NotFound).Select(i => $"Plugins:{i.InstanceName}: {i.Error}").ToList();
        if (missing.Count > 0)
        {
            throw new ConfigurationException(string.Join(Environment.NewLine, missing));
        }
    }

    private PluginInstance BuildInstance(IConfigurationSection section)
    {
        if (!section.GetValue("Enabled", true))
        {
            return PluginInstance.Disabled(section.Key);
        }

        var pluginName = section["Plugin"] ?? section.Key;
        var descriptor = PluginCatalog.Find(Discovered, pluginName);
        if (descriptor is null)
        {
            var known = Discovered.Count == 0 ? "none" : string.Join(", ", Discovered.Select(d => d.Name));
            var error = $"no plugin folder named '{pluginName}' in {string.Join(", ", _options.PluginFolders)} (found: {known})";
            LogPluginMissing(section.Key, error);
            return PluginInstance.Missing(section.Key, error);
        }

        var instance = new PluginInstance(section.Key, descriptor) { Buffer = ReadBufferOptions(section) };
        // Registered first, so that an instance failing while loading still reports running = 0.
        _metrics.For(section.Key).Gauge("running", "1 while the plugin instance runs, 0 once it stopped or failed", () => instance.State == PluginState.Running ? 1 : 0);
        try
        {
            var plugin = _factory.Create(descriptor);
            var services = new ServiceCollection();
            var context = new PluginContext(section.Key, descriptor.Directory, WithoutHostKeys(section));
            AddHostServices(services, context);
            plugin.ConfigureServices(services, context);
            instance.Attach(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
        }
        catch (Exception ex)
        {
            Fail(instance, "loading", ex);
        }

        return instance;
    }

    /// <summary>
    /// The instance's section without the keys the host reads (<c>Plugin</c>, <c>Enabled</c>, <c>Buffer</c>), so a plugin
    /// may reject keys it does not know.
    /// </summary>
    private static IConfiguration WithoutHostKeys(IConfigurationSection section) =>
        new ConfigurationBuilder().AddInMemoryCollection(section.AsEnumerable(makePathsRelative: true)
            .Where(setting => setting.Value is not null && !HostKeys.Any(host =>
                setting.Key.Equals(host, StringComparison.OrdinalIgnoreCase) ||
                setting.Key.StartsWith(host + ConfigurationPath.KeyDelimiter, StringComparison.OrdinalIgnoreCase))))
            .Build();

    private static SinkPumpOptions ReadBufferOptions(IConfigurationSection section)
    {
        try
        {
            var options = section.GetSection("Buffer").Get<SinkPumpOptions>() ?? new SinkPumpOptions();
            options.Validate(section.Key);
            return options;
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException($"Plugins:{section.Key}:Buffer: {ConfigurationException.Reasons(ex)}");
        }
        catch (ArgumentException ex)
        {
            throw new ConfigurationException(ex.Message);
        }
    }

    private void AddHostServices(IServiceCollection services, PluginContext context)
    {
        services.AddSingleton(context);
        services.AddSingleton(_loggerFactory);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(_time);
        services.AddSingleton<IAgentMetrics>(_metrics.For(context.InstanceName));
        services.AddSingleton<IPointWriter>(_router);
        services.AddSingleton<IWorkloadResolver>(_resolver);
        services.AddSingleton<IPeerNameResolver>(_peerNames);
        services.AddSingleton<IProtocolCatalog>(_protocols);
        services.AddSingleton(_bus);
        services.AddSingleton(typeof(IEventPublisher<>), typeof(BusPublisher<>));
        services.AddOptions();
    }

    /// <summary>Wires and starts everything built by <see cref="Build"/> (after <see cref="CheckKernel"/>).</summary>
    public void Start()
    {
        var active = _instances.Where(i => i.IsActive).ToList();
        _resolver.SetSources(active.SelectMany(i => i.MetadataSources));
        _peerNames.SetSources(active.SelectMany(i => i.PeerNameSources));
        _protocols.Set(
            [.. active.SelectMany(i => i.StreamProtocols.Select(p => Registration(i, p)))],
            [.. active.SelectMany(i => i.DatagramProtocols.Select(p => Registration(i, p)))]);
        foreach (var instance in active)
        {
            foreach (var subscription in instance.Subscriptions)
            {
                var subscriber = instance.Services!.GetRequiredService(subscription.SubscriberType);
                _bus.Subscribe(subscription.EventType, subscriber, new SubscriberOwner(
                    instance.InstanceName, _metrics.For(instance.InstanceName), ex => Fail(instance, $"handling {subscription.EventType.Name} events", ex)));
            }

            foreach (var sink in instance.Sinks)
            {
                _pumps.Add(new SinkPump(instance.InstanceName, sink, instance.Buffer, _metrics.For(instance.InstanceName), _loggerFactory.CreateLogger<SinkPump>(), _time));
            }
        }

        if (_pumps.Count == 0)
        {
            LogNoSink();
        }

        _router.SetPumps(_pumps);
        foreach (var pump in _pumps)
        {
            _pumpTasks.Add(pump.RunAsync(_stopPumps.Token));
        }

        foreach (var instance in active)
        {
            instance.MarkRunning();
            // The probes of a sink's instance (a scrape endpoint, a sender) pass on what the sink received: they stop after its last batch.
            var sinkSide = instance.Sinks.Count > 0;
            foreach (var probe in instance.Probes)
            {
                (sinkSide ? _sinkProbeTasks : _probeTasks).Add(RunProbeAsync(instance, probe, sinkSide ? _stopSinkProbes.Token : _stopProbes.Token));
                if (probe is IReportsAttachment attaching)
                {
                    attaching.Attached.ContinueWith(_ => UpdateReadiness(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
        }

        UpdateReadiness();
        _flushLoop = FlushLoopAsync(_stopProbes.Token);
    }

    /// <summary>
    /// Writes the readiness file when every probe of every instance that has probes is running and has attached (a probe
    /// that does not report attachment counts as attached once started), and removes it otherwise.
    /// </summary>
    private void UpdateReadiness()
    {
        lock (_readinessLock)
        {
            var probing = _instances.Where(i => i.Probes.Count > 0).ToList();
            var ready = probing.Count > 0 && !_stopProbes.IsCancellationRequested && probing.All(i =>
                i.State == PluginState.Running && i.Probes.All(p => p is not IReportsAttachment a || a.Attached.IsCompletedSuccessfully));
            if (ready == IsReady)
            {
                return;
            }

            IsReady = ready;
            if (_options.HealthDirectory.Length == 0)
            {
                return;
            }

            var file = Path.Combine(_options.HealthDirectory, AgentOptions.AttachedFileName);
            try
            {
                if (ready)
                {
                    Directory.CreateDirectory(_options.HealthDirectory);
                    File.WriteAllText(file, string.Join(Environment.NewLine, probing.Select(i => i.InstanceName)) + Environment.NewLine);
                }
                else
                {
                    File.Delete(file);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogReadinessFileFailed(file, ex.Message);
            }
        }
    }

    /// <summary>After a probe instance failed: when no probe instance is left running, says why this matters and stops the agent.</summary>
    private void StopWhenNoProbeRuns()
    {
        var probing = _instances.Where(i => i.Probes.Count > 0).ToList();
        if (probing.Count == 0 || probing.Any(i => i.IsActive) || _stopProbes.IsCancellationRequested || _noProbeRunning.IsCancellationRequested)
        {
            return;
        }

        LogNoProbeRunning(string.Join(", ", probing.Select(i => i.InstanceName)));
        StoppedWithoutProbes = true;
        _noProbeRunning.Cancel();
    }

    private ProtocolRegistration<T> Registration<T>(PluginInstance instance, T protocol)
        where T : class =>
        new(protocol, instance.InstanceName, ex => Fail(instance, $"parsing {protocol.GetType().Name} traffic", ex));

    /// <summary>Checks (and mounts what it can of) what the built probes need from the kernel.</summary>
    /// <exception cref="KernelRequirementsException">A probe needs something the kernel or the process lacks.</exception>
    public void CheckKernel()
    {
        var probes = _instances.Where(i => i.IsActive).SelectMany(i => i.Probes).ToList();
        if (!_options.CheckKernel || probes.Count == 0)
        {
            return;
        }

        var features = RequiredKernelFeatures();
        var report = KernelRequirements.Check(features, mountMissing: true);
        if (!report.AllOk)
        {
            throw new KernelRequirementsException(report);
        }
    }

    /// <summary>What the probes of the active instances declare they need (<see cref="IRequiresKernelFeatures"/>).</summary>
    public KernelFeatures RequiredKernelFeatures() =>
        _instances.Where(i => i.IsActive).SelectMany(i => i.Probes).OfType<IRequiresKernelFeatures>()
            .Aggregate(KernelFeatures.None, (all, probe) => all | probe.RequiredKernelFeatures);

    private Task RunProbeAsync(PluginInstance instance, IProbe probe, CancellationToken stop)
    {
        var stopping = CancellationTokenSource.CreateLinkedTokenSource(stop, instance.Stopping.Token);
        return Task.Factory.StartNew(
                () => probe.RunAsync(stopping.Token),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default)
            .Unwrap()
            .ContinueWith(
                task =>
                {
                    if (task.Exception is { } error && !stopping.IsCancellationRequested)
                    {
                        Fail(instance, $"running probe {probe.GetType().Name}", error.GetBaseException());
                    }
                    else if (task.Exception is { } late && late.GetBaseException() is not OperationCanceledException)
                    {
                        Fail(instance, $"stopping probe {probe.GetType().Name}", late.GetBaseException());
                    }

                    stopping.Dispose();
                },
                TaskScheduler.Default);
    }

    private async Task FlushLoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.FlushInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                FlushAll();
            }
        }
        catch (OperationCanceledException)
        {
            // shutdown: the final flush happens in StopAsync, after the probes have stopped
        }
    }

    /// <summary>
    /// Flushes every aggregator (all at once, each on a pool thread, waiting for them together up to
    /// <c>Agent:FlushTimeout</c>), then writes the self-metrics, stamped with one window end. An aggregator still in a
    /// flush when the deadline passes is reported stuck (<c>flush_timeouts</c>) and skipped (<c>flushes_skipped</c>)
    /// until that flush returns; the others and the self-metrics go on.
    /// </summary>
    internal void FlushAll()
    {
        var windowEnd = UnixNanoseconds(_time.GetUtcNow());
        var flushes = new List<(PluginInstance Instance, IFlushable Flushable, Task Task)>();
        foreach (var instance in _instances.Where(i => i.IsActive))
        {
            foreach (var flushable in instance.Flushables)
            {
                if (_stuckFlushes.TryGetValue(flushable, out var stuck))
                {
                    if (!stuck.IsCompleted)
                    {
                        _metrics.For(instance.InstanceName).Counter("flushes_skipped", "flushes not started because the previous one has not returned (a stuck aggregator)").Increment();
                        continue;
                    }

                    _stuckFlushes.Remove(flushable);
                    LogFlushRecovered(instance.InstanceName);
                }

                flushes.Add((instance, flushable, Task.Run(() => flushable.Flush(windowEnd, _router.Aggregates))));
            }
        }

        // Blocking is fine here: the flush loop has a thread of its own, and this is bounded by the deadline.
        try
        {
            Task.WhenAll(flushes.Select(f => f.Task)).Wait(_options.FlushTimeout);
        }
        catch (AggregateException)
        {
            // reported per instance below
        }
        foreach (var (instance, flushable, task) in flushes)
        {
            if (task.IsFaulted)
            {
                Fail(instance, "flushing", task.Exception.GetBaseException());
            }
            else if (!task.IsCompleted)
            {
                _stuckFlushes[flushable] = task.ContinueWith(
                    t => { if (t.Exception is { } late) { Fail(instance, "flushing", late.GetBaseException()); } },
                    TaskScheduler.Default);
                _metrics.For(instance.InstanceName).Counter("flush_timeouts", "flushes that did not return within Agent:FlushTimeout (the aggregator is skipped until it returns)").Increment();
                LogFlushStuck(instance.InstanceName, _options.FlushTimeout);
            }
        }

        _router.Aggregates.Write(_metrics.Snapshot(_options.NodeName, windowEnd));
    }

    public async Task StopAsync()
    {
        var deadline = _time.GetUtcNow() + _options.ShutdownTimeout;
        await _stopProbes.CancelAsync();
        UpdateReadiness();
        await WaitAsync(Task.WhenAll(_probeTasks), _options.ShutdownTimeout, "probes to stop");
        await _flushLoop;
        FlushAll();
        foreach (var instance in _instances)
        {
            instance.MarkStopped();
        }

        var remaining = deadline - _time.GetUtcNow();
        await Task.WhenAll(_pumps.Select(p => p.DrainAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero)));
        await _stopPumps.CancelAsync();
        await WaitAsync(Task.WhenAll(_pumpTasks), TimeSpan.FromSeconds(2), "sinks to stop");
        await _stopSinkProbes.CancelAsync();
        remaining = deadline - _time.GetUtcNow();
        await WaitAsync(Task.WhenAll(_sinkProbeTasks), remaining > SinkProbesGrace ? remaining : SinkProbesGrace, "the sinks' probes to stop");
    }

    private async Task WaitAsync(Task task, TimeSpan timeout, string what)
    {
        try
        {
            await task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            LogShutdownTimeout(what, timeout);
        }
        catch (Exception)
        {
            // failures were already reported per instance
        }
    }

    private void Fail(PluginInstance instance, string phase, Exception error)
    {
        if (instance.Fail(phase, error))
        {
            LogPluginFailed(instance.InstanceName, phase, ConfigurationException.Reasons(error));
            LogPluginFailureDetail(error, instance.InstanceName);
            if (instance.Probes.Count > 0)
            {
                UpdateReadiness();
                StopWhenNoProbeRuns();
            }

            // Last, so that whoever sees the count also sees the readiness and the stop it caused.
            _pluginFailures.Increment();
        }
    }

    internal static long UnixNanoseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        _factory.Dispose();
        _bus.Dispose();
        _stopProbes.Dispose();
        _stopPumps.Dispose();
        _stopSinkProbes.Dispose();
        _noProbeRunning.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Plugin instance {Instance} failed while {Phase}: {Reason}. It is stopped; the other plugins keep running.")]
    private partial void LogPluginFailed(string instance, string phase, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Plugin instance {Instance}: failure details")]
    private partial void LogPluginFailureDetail(Exception error, string instance);

    [LoggerMessage(Level = LogLevel.Error, Message = "Plugin instance {Instance} not started: {Error}")]
    private partial void LogPluginMissing(string instance, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No sink is configured: points are computed but go nowhere. Add e.g. a Console or InfluxDb plugin instance.")]
    private partial void LogNoSink();

    [LoggerMessage(Level = LogLevel.Critical, Message = "No probe is running: every probe failed ({Instances}; errors above), so the agent observes nothing and stops with exit code 4 instead of looking healthy. " +
        "In a container, an EPERM (Operation not permitted) from bpf() or perf_event_open() while the capabilities are granted means its seccomp profile refuses them: " +
        "run it with seccomp unconfined (Kubernetes: securityContext.seccompProfile.type: Unconfined; podman and docker: --security-opt seccomp=unconfined) " +
        "or with a profile that allows bpf and perf_event_open. 'kubebpf check' names what is missing.")]
    private partial void LogNoProbeRunning(string instances);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot update the readiness file {File}: {Reason}")]
    private partial void LogReadinessFileFailed(string file, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Plugin instance {Instance}: a flush did not return within {Timeout}; the instance is skipped at each flush until it returns")]
    private partial void LogFlushStuck(string instance, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin instance {Instance}: the stuck flush returned; flushing again")]
    private partial void LogFlushRecovered(string instance);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: gave up waiting for {What} after {Timeout}")]
    private partial void LogShutdownTimeout(string what, TimeSpan timeout);
}
