using System.CommandLine;
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
    "Check (and mount where possible) what the eBPF probes need: privileges, memlock, BTF, bpffs, tracefs. With --config or --set, only what the configured probes need.")
{
    configOption, setOption,
};
check.SetAction((result, _) => Cli.GuardAsync(() => Cli.CheckAsync(result.GetValue(configOption), result.GetValue(setOption) ?? [])));

var root = new RootCommand("kubebpf: zero-instrumentation HTTP observability with eBPF. Start with 'kubebpf run' (as root).")
{
    run, plugins, check,
};
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

internal static class Cli
{
    public const int ConfigurationError = 2;
    public const int KernelRequirementsUnmet = 3;

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
        var features = KernelFeatures.Btf | KernelFeatures.BpfFs | KernelFeatures.TraceFs;
        if (configFile is not null || overrides.Length > 0)
        {
            // What the configured, loadable probes declare, as 'kubebpf run' checks it before starting them.
            var configuration = AgentConfiguration.Build(configFile, overrides);
            using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
            await using var runtime = new AgentRuntime(configuration, AgentConfiguration.Options(configuration), loggerFactory, TimeProvider.System, AppContext.BaseDirectory);
            runtime.Build();
            runtime.RequireAllPluginsFound();
            features = runtime.Instances.Where(i => i.IsActive).SelectMany(i => i.Probes).OfType<IRequiresKernelFeatures>()
                .Aggregate(KernelFeatures.None, (all, probe) => all | probe.RequiredKernelFeatures);
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
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout + TimeSpan.FromSeconds(5));
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
        return 0;
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
                instance.Outputs.Count == 0 ? "" : "writes " + string.Join(" ", instance.Outputs.Select(o => o.Name)),
            }.Where(s => s.Length > 0));
            Console.WriteLine($"{instance.InstanceName,-16} {instance.Descriptor?.Name ?? "-",-24} {instance.State,-9} {detail}");
        }

        return runtime.Instances.Any(i => i.Error is not null) ? 1 : 0;
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
