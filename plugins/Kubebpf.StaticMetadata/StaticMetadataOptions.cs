using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.StaticMetadata;

/// <summary>The plugin's configuration section (<c>Plugins:StaticMetadata</c>).</summary>
public sealed class StaticMetadataOptions : IValidatedOptions
{
    /// <summary>The workload file: YAML, or JSON when the name ends in <c>.json</c>. Relative paths start at the working directory.</summary>
    public string File { get; set; } = "";

    /// <summary>How often the file's modification time and size are checked; zero turns reloading off.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(File))
        {
            yield return "File is required: the path of the workload file (YAML or JSON).";
        }

        if (ReloadInterval < TimeSpan.Zero)
        {
            yield return $"ReloadInterval must not be negative (zero turns reloading off): {ReloadInterval}.";
        }
    }
}
