using System.CommandLine;
using System.Runtime.InteropServices;
using Kubebpf.Agent;
using Kubebpf.Agent.Plugins;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

var configOption = new Option<string?>("--config", "-c")
{
    Description = $"JSON configuration file (default: {AgentConfiguration.DefaultFileName} beside the agent).",
};
var setOption = new Option<string[]>("--set")
{
    Description = "Override one setting, e.g. --set Agent:FlushInterval=00:00:05 (repeatable). Environment variables KUBEBPF_Section__Key work too.",
    Arity = ArgumentArity.ZeroOrMore,
};

var run = new Command("run", "Run the agent: load the configured plugins, observe, aggregate and write until Ctrl-C or SIGTERM.")
{
    configOption, setOption,
};
run.SetAction((result, _) => Cli.GuardAsync(() => Cli.RunAsync(result.GetValue(configOption), result.GetValue(setOption) ?? [])));

var plugins = new Command("plugins", "List the plugins found in the plugin folders and whether each configured instance loads.")
{
    configOption, setOption,
};
plugins.SetAction((result, _) => Cli.GuardAsync(() => Cli.ListPluginsAsync(result.GetValue(configOption), result.GetValue(setOption) ?? [])));

var check = new Command(
    "check",
    "Check (and mount where possible) what the configured eBPF probes need: capabilities, memlock, the bpf() syscall (seccomp), and BTF, bpffs, tracefs where a probe needs them.")
{
    configOption, setOption,
};
check.SetAction((result, _) => Cli.GuardAsync(() => Cli.CheckAsync(result.GetValue(configOption), result.GetValue(setOption) ?? [])));

var durationOption = new Option<TimeSpan>("--duration", "-d")
{
    Description = "How long to record (e.g. 00:00:30; default 30 s).",
    DefaultValueFactory = _ => TimeSpan.FromSeconds(30),
};
var outputOption = new Option<string>("--output", "-o")
{
    Description = "The SVG flame graph to write (default flamegraph.svg).",
    DefaultValueFactory = _ => "flamegraph.svg",
};
var collapsedOption = new Option<string?>("--collapsed") { Description = "Also write the profile as collapsed stacks (flamegraph.pl, speedscope)." };
var frequencyOption = new Option<int>("--frequency", "-F") { Description = "Samples per second per CPU (default 99).", DefaultValueFactory = _ => 99 };
var podOption = new Option<string[]>("--pod") { Description = "Only pods matching this pattern (* and ?; 'host' for the node's own processes); repeatable.", Arity = ArgumentArity.ZeroOrMore };
var processOption = new Option<string[]>("--process") { Description = "Only processes whose command matches this pattern; repeatable.", Arity = ArgumentArity.ZeroOrMore };
var profile = new Command(
    "profile",
    "Record CPU stacks of every process for a while (the Profiler plugin, with the configured metadata plugins naming the pods) and write an SVG flame graph a browser opens.")
{
    durationOption, outputOption, collapsedOption, frequencyOption, podOption, processOption, configOption, setOption,
};
profile.SetAction((result, _) => Cli.GuardAsync(() => Cli.ProfileAsync(
    result.GetValue(configOption), result.GetValue(setOption) ?? [],
    new ProfileRequest(result.GetValue(durationOption), result.GetValue(outputOption)!, result.GetValue(collapsedOption), result.GetValue(frequencyOption),
        result.GetValue(podOption) ?? [], result.GetValue(processOption) ?? []))));

var root = new RootCommand("kubebpf: zero-instrumentation observability with eBPF. Start with 'kubebpf run' (as root). Plugins add commands of their own (e.g. 'kubebpf map'): 'kubebpf plugins' lists them.")
{
    run, plugins, check, profile,
};
if (args.Length > 0 && !args[0].StartsWith('-') && root.Subcommands.All(c => c.Name != args[0]))
{
    return await Cli.GuardAsync(() => Cli.RunPluginCommandAsync(args[0], args[1..]));
}

return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

/// <summary>What <c>kubebpf profile</c> was asked for.</summary>
internal sealed record ProfileRequest(TimeSpan Duration, string Output, string? Collapsed, int Frequency, string[] Pods, string[] Processes);

internal static class Cli
{
    public const int ConfigurationError = 2;
    public const int KernelRequirementsUnmet = 3;
    public const int NoProbeRunning = 4;

    public static async Task<int> GuardAsync(Func<Task<int>> command)
    {
        try
        {
            return await command();
        }
        catch (ConfigurationException ex)
        {
            await Console.Error.WriteLineAsync($"kubebpf: configuration error: {ex.Message}");
            return ConfigurationError;
        }
        catch (KernelRequirementsException ex)
        {
            await Console.Error.WriteLineAsync($"kubebpf: {ex.Message}");
            return KernelRequirementsUnmet;
        }
    }

    public static async Task<int> CheckAsync(string? configFile, string[] overrides)
    {
        // What the configured, loadable probes declare, as 'kubebpf run' checks it before starting them (the default
        // configuration beside the agent when none is named); everything only when no plugin is configured at all.
        var configuration = AgentConfiguration.Build(configFile, overrides);
        var features = KernelFeatures.Btf | KernelFeatures.BpfFs | KernelFeatures.TraceFs | KernelFeatures.RawSockets | KernelFeatures.PerfEvents;
        if (configuration.GetSection("Plugins").GetChildren().Any())
        {
            using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
            await using var runtime = new AgentRuntime(configuration, AgentConfiguration.Options(configuration), loggerFactory, TimeProvider.System, AppContext.BaseDirectory);
            runtime.Build();
            runtime.RequireAllPluginsFound();
            features = runtime.RequiredKernelFeatures();
        }

        var report = KernelRequirements.Check(features, mountMissing: true);
        Console.WriteLine(report);
        return report.AllOk ? 0 : KernelRequirementsUnmet;
    }

    public static async Task<int> RunAsync(string? configFile, string[] overrides)
    {
        var configuration = AgentConfiguration.Build(configFile, overrides);
        var options = AgentConfiguration.Options(configuration);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ApplicationName = "kubebpf",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
        // Logs go to stderr so that the console sink owns stdout.
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout + AgentRuntime.SinkProbesGrace + TimeSpan.FromSeconds(5));
        builder.Services.AddSingleton(sp => new AgentRuntime(
            configuration, options, sp.GetRequiredService<ILoggerFactory>(), TimeProvider.System, AppContext.BaseDirectory));
        builder.Services.AddHostedService<AgentHostedService>();
        using var host = builder.Build();
        // Plugins are found and built, and the kernel checked, before the host starts, so that a configuration or
        // kernel error ends with its message alone.
        var runtime = host.Services.GetRequiredService<AgentRuntime>();
        runtime.Build();
        runtime.RequireAllPluginsFound();
        runtime.CheckKernel();
        await host.RunAsync();
        return runtime.StoppedWithoutProbes ? NoProbeRunning : 0;
    }

    /// <summary>
    /// <c>kubebpf profile</c>: runs the Profiler plugin for <see cref="ProfileRequest.Duration"/> with the configured
    /// instances that provide workload metadata (so that pods have names), every other instance turned off, then writes
    /// the SVG when the profiler stops. Ctrl-C or SIGTERM ends the recording early, still writing the file.
    /// </summary>
    public static async Task<int> ProfileAsync(string? configFile, string[] overrides, ProfileRequest request)
    {
        if (request.Duration < TimeSpan.FromSeconds(1))
        {
            throw new ConfigurationException($"--duration must be at least one second, not {request.Duration}.");
        }

        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
            .SetMinimumLevel(LogLevel.Information));
        var settings = new List<string>(overrides);
        foreach (var instance in await InstancesWithoutMetadataAsync(AgentConfiguration.Build(configFile, overrides)))
        {
            settings.Add($"Plugins:{instance}:Enabled=false");
        }

        var output = Path.GetFullPath(request.Output);
        settings.AddRange(
        [
            $"{ProfilerSection}:Enabled=true", $"{ProfilerSection}:SvgFile={output}",
            $"{ProfilerSection}:Interval={request.Duration}", $"{ProfilerSection}:ReadInterval={Min(request.Duration, TimeSpan.FromSeconds(5))}",
            $"{ProfilerSection}:Frequency={request.Frequency}",
        ]);
        if (request.Collapsed is not null)
        {
            settings.Add($"{ProfilerSection}:CollapsedFile={Path.GetFullPath(request.Collapsed)}");
        }

        settings.AddRange(request.Pods.Select((pattern, i) => $"{ProfilerSection}:Pods:{i}={pattern}"));
        settings.AddRange(request.Processes.Select((pattern, i) => $"{ProfilerSection}:Processes:{i}={pattern}"));
        var configuration = AgentConfiguration.Build(configFile, settings);
        await using var runtime = new AgentRuntime(configuration, AgentConfiguration.Options(configuration), loggerFactory, TimeProvider.System, AppContext.BaseDirectory);
        runtime.Build();
        runtime.RequireAllPluginsFound();
        runtime.CheckKernel();
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        runtime.Start();
        await Console.Error.WriteLineAsync($"Recording for {request.Duration} (Ctrl-C ends earlier)...");
        try
        {
            await Task.Delay(request.Duration, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // stopped early: the profile so far is still written
        }

        await runtime.StopAsync();
        var profiler = runtime.Instances.Single(i => i.InstanceName == "Profiler");
        if (profiler.Error is not null || !File.Exists(output))
        {
            await Console.Error.WriteLineAsync($"kubebpf: no flame graph written: {profiler.Error ?? "the profiler wrote no file (see the log above)"}");
            return 1;
        }

        Console.WriteLine($"Flame graph: {output}");
        return 0;
    }

    private const string ProfilerSection = "Plugins:Profiler";

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>The configured instances, other than the profiler, that provide no workload metadata (found by building them once).</summary>
    private static async Task<List<string>> InstancesWithoutMetadataAsync(IConfiguration configuration)
    {
        if (!configuration.GetSection("Plugins").GetChildren().Any())
        {
            return [];
        }

        // Quiet: instances that do not load here are turned off for the recording anyway.
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.None));
        await using var runtime = new AgentRuntime(configuration, AgentConfiguration.Options(configuration), loggerFactory, TimeProvider.System, AppContext.BaseDirectory);
        runtime.Build();
        return [.. runtime.Instances.Where(i => i.InstanceName != "Profiler" && i.MetadataSources.Count == 0).Select(i => i.InstanceName)];
    }

    public static async Task<int> ListPluginsAsync(string? configFile, string[] overrides)
    {
        var configuration = AgentConfiguration.Build(configFile, overrides);
        var options = AgentConfiguration.Options(configuration);
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            .AddFilter<ConsoleLoggerProvider>(_ => true));
        await using var runtime = new AgentRuntime(configuration, options, loggerFactory, TimeProvider.System, AppContext.BaseDirectory);
        runtime.Build();
        Console.WriteLine($"Plugin folders searched: {string.Join(", ", options.PluginFolders.Select(d => Path.GetFullPath(d, AppContext.BaseDirectory)))}");
        Console.WriteLine();
        Console.WriteLine($"{"PLUGIN",-28} FOLDER");
        foreach (var plugin in runtime.Discovered)
        {
            Console.WriteLine($"{plugin.Name,-28} {plugin.Directory}");
        }

        Console.WriteLine();
        Console.WriteLine($"{"INSTANCE",-16} {"PLUGIN",-24} {"STATE",-9} COMPONENTS / ERROR");
        foreach (var instance in runtime.Instances)
        {
            var detail = instance.Error ?? string.Join(", ", new[]
            {
                Describe(instance.Probes.Count, "probe"), Describe(instance.Sinks.Count, "sink"),
                Describe(instance.MetadataSources.Count, "metadata source"), Describe(instance.PeerNameSources.Count, "name source"),
                Describe(instance.Subscriptions.Count, "subscriber"),
                Describe(instance.Flushables.Count, "aggregator"),
                Protocols(instance),
                instance.Commands.Count == 0 ? "" : "adds " + string.Join(" ", instance.Commands.Select(c => $"'kubebpf {c.Name}'")),
                instance.Outputs.Count == 0 ? "" : "writes " + string.Join(" ", instance.Outputs.Select(o => o.Name)),
            }.Where(s => s.Length > 0));
            Console.WriteLine($"{instance.InstanceName,-16} {instance.Descriptor?.Name ?? "-",-24} {instance.State,-9} {detail}");
        }

        return runtime.Instances.Any(i => i.Error is not null) ? 1 : 0;
    }

    /// <summary>
    /// Runs the command a configured plugin instance adds (<see cref="IAgentCommand"/>): the instances are built from
    /// the configuration (<c>--config</c>, <c>--set</c>, taken from the arguments) but not started.
    /// </summary>
    public static async Task<int> RunPluginCommandAsync(string name, string[] arguments)
    {
        string? configFile = null;
        var overrides = new List<string>();
        var rest = new List<string>();
        for (var i = 0; i < arguments.Length; i++)
        {
            if (arguments[i] is "--config" or "-c" && i + 1 < arguments.Length)
            {
                configFile = arguments[++i];
            }
            else if (arguments[i] == "--set" && i + 1 < arguments.Length)
            {
                overrides.Add(arguments[++i]);
            }
            else
            {
                rest.Add(arguments[i]);
            }
        }

        var configuration = AgentConfiguration.Build(configFile, [.. overrides]);
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        await using var runtime = new AgentRuntime(configuration, AgentConfiguration.Options(configuration), loggerFactory, TimeProvider.System, AppContext.BaseDirectory);
        runtime.Build();
        var commands = runtime.Instances.Where(i => i.IsActive).SelectMany(i => i.Commands).ToList();
        var command = commands.FirstOrDefault(c => c.Name == name);
        if (command is null)
        {
            var known = string.Join(", ", new[] { "run", "plugins", "check" }.Concat(commands.Select(c => c.Name)));
            await Console.Error.WriteLineAsync($"kubebpf: unknown command '{name}' (commands: {known}; a plugin's command needs its instance configured)");
            return ConfigurationError;
        }

        return await command.RunAsync(rest, Console.Out, CancellationToken.None);
    }

    private static string Protocols(PluginInstance instance)
    {
        var names = instance.StreamProtocols.Select(p => p.Descriptor.Name + "/tcp").Concat(instance.DatagramProtocols.Select(p => p.Descriptor.Name + "/udp")).ToList();
        return names.Count == 0 ? "" : "parses " + string.Join(" ", names);
    }

    private static string Describe(int count, string noun) => count switch
    {
        0 => "",
        1 => $"1 {noun}",
        _ => $"{count} {noun}s",
    };
}
