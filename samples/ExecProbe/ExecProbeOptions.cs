using Kubebpf.Sdk.Pipeline;

namespace ExecProbe;

/// <summary>The plugin instance's configuration section.</summary>
public sealed class ExecProbeOptions : IValidatedOptions
{
    /// <summary>How long the probe sleeps when the ring buffer is empty: the most a point waits before it is written.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    public IEnumerable<string> Validate()
    {
        if (PollInterval <= TimeSpan.Zero)
        {
            yield return $"PollInterval must be positive (was {PollInterval}).";
        }
    }
}
