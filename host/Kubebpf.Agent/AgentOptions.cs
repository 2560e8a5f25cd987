using Kubebpf.Sdk.Bpf;

namespace Kubebpf.Agent;

/// <summary>The <c>Agent</c> configuration section.</summary>
public sealed class AgentOptions
{
    public const string SectionName = "Agent";

    /// <summary>
    /// Folders searched for plugins (<c>&lt;folder&gt;/&lt;Name&gt;/&lt;Name&gt;.dll</c>); relative paths are relative to the
    /// agent's own folder. Empty means <c>plugins</c> (not set here: the configuration binder appends to lists).
    /// </summary>
    public List<string> PluginDirectories { get; set; } = [];

    /// <summary>The plugin folders in force.</summary>
    public IReadOnlyList<string> PluginFolders => PluginDirectories.Count > 0 ? PluginDirectories : ["plugins"];

    /// <summary>How often aggregators flush and self-metrics are written.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The node name written on self-metrics; defaults to <c>NODE_NAME</c>, else the host name.</summary>
    public string NodeName { get; set; } = Environment.GetEnvironmentVariable("NODE_NAME") ?? Environment.MachineName;

    /// <summary>How long shutdown waits for probes to stop and sinks to drain.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Check (and mount) what eBPF probes need before starting them.</summary>
    public bool CheckKernel { get; set; } = true;

    /// <summary>
    /// Where the agent keeps its readiness file, <see cref="AttachedFileName"/>: present while every probe has attached
    /// and none has failed (an orchestrator's readiness check tests it). Empty: no file.
    /// </summary>
    public string HealthDirectory { get; set; } = "";

    /// <summary>The readiness file's name in <see cref="HealthDirectory"/>.</summary>
    public const string AttachedFileName = "attached";

    internal void Validate()
    {
        if (FlushInterval < TimeSpan.FromMilliseconds(100))
        {
            throw new ConfigurationException($"Agent:FlushInterval must be at least 100 ms; it is {FlushInterval}.");
        }

        if (ShutdownTimeout <= TimeSpan.Zero)
        {
            throw new ConfigurationException($"Agent:ShutdownTimeout must be positive; it is {ShutdownTimeout}.");
        }
    }
}

/// <summary>A configuration error the user must fix; its message says what and where.</summary>
public sealed class ConfigurationException(string message) : Exception(message)
{
    /// <summary>The messages of an exception and its inner exceptions: the innermost often holds the line number or the cause.</summary>
    public static string Reasons(Exception error)
    {
        var reasons = new List<string>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            reasons.Add(e.Message);
        }

        return string.Join(" <- ", reasons.Distinct());
    }
}

/// <summary>The kernel or the process lacks what the configured probes need; the report says what and how to fix it.</summary>
public sealed class KernelRequirementsException(KernelRequirementsReport report)
    : Exception("The kernel or this process lacks what the probes need:" + Environment.NewLine + report)
{
    public KernelRequirementsReport Report { get; } = report;
}
