namespace ExecProbe;

/// <summary>The plugin instance's configuration section.</summary>
public sealed class ExecProbeOptions
{
    /// <summary>How long the probe sleeps when the ring buffer is empty: the most a point waits before it is written.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(10);
}
