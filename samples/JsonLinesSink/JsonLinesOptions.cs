using Kubebpf.Sdk.Pipeline;

namespace JsonLinesSink;

/// <summary>The plugin instance's configuration section.</summary>
public sealed class JsonLinesOptions : IValidatedOptions
{
    /// <summary>The file points are appended to; created with its folder when missing. Required.</summary>
    public string Path { get; set; } = "";

    /// <summary>Measurements to write; empty writes all.</summary>
    public List<string> Measurements { get; set; } = [];

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            yield return "Path is required: the file to append JSON lines to.";
        }
    }
}
