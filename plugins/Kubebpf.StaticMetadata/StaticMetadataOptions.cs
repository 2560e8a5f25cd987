namespace Kubebpf.StaticMetadata;

/// <summary>The plugin's configuration section (<c>Plugins:StaticMetadata</c>).</summary>
public sealed class StaticMetadataOptions
{
    /// <summary>The workload file: YAML, or JSON when the name ends in <c>.json</c>. Relative paths start at the working directory.</summary>
    public string File { get; set; } = "";

    /// <summary>How often the file's modification time and size are checked; zero turns reloading off.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(2);
}
