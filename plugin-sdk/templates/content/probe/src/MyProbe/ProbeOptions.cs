using Kubebpf.Sdk.Pipeline;

namespace MyProbe;

/// <summary>The plugin instance's configuration section (<c>Plugins:&lt;instance&gt;</c>).</summary>
public sealed class ProbeOptions : IValidatedOptions
{
    /// <summary>How long the probe sleeps when the ring buffer is empty.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    public IEnumerable<string> Validate()
    {
        if (PollInterval <= TimeSpan.Zero)
        {
            yield return $"PollInterval must be positive (was {PollInterval}).";
        }
    }
}
