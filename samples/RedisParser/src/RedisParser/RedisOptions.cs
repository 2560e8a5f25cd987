using Kubebpf.Sdk.Pipeline;

namespace RedisParser;

/// <summary>The plugin instance's configuration section (<c>Plugins:&lt;instance&gt;</c>), bound by <see cref="PluginOptions.Load{T}"/>.</summary>
public sealed class RedisOptions : IValidatedOptions
{
    /// <summary>The port Redis servers listen on unless told otherwise.</summary>
    public const ushort DefaultPort = 6379;

    /// <summary>Server ports offered to this parser first; null means 6379. (The binder appends to a non-empty default list, so the default lives in <see cref="ServerPorts"/>.)</summary>
    public ushort[]? Ports { get; set; }

    /// <summary>Also claim connections on other ports whose first bytes are a Redis command.</summary>
    public bool Sniff { get; set; } = true;

    /// <summary>Bytes the capture keeps per direction for an unfinished message head (the parser itself keeps at most about 150).</summary>
    public int MaxBufferedBytes { get; set; } = 4096;

    /// <summary>Commands awaiting their reply per connection; commands beyond it are counted and their replies skipped, never mis-paired.</summary>
    public int MaxPipelinedCommands { get; set; } = 1024;

    /// <summary>The ports in effect.</summary>
    public IReadOnlyList<ushort> ServerPorts => Ports ?? [DefaultPort];

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (ServerPorts.Contains((ushort)0))
        {
            yield return "Ports: 0 is not a port.";
        }

        if (ServerPorts.Count == 0 && !Sniff)
        {
            yield return "Ports is empty and Sniff is false: no connection would ever be claimed.";
        }

        if (MaxBufferedBytes is < 256 or > 1 << 20)
        {
            yield return $"MaxBufferedBytes must be 256 to 1048576 (was {MaxBufferedBytes}).";
        }

        if (MaxPipelinedCommands is < 1 or > 1_000_000)
        {
            yield return $"MaxPipelinedCommands must be 1 to 1000000 (was {MaxPipelinedCommands}).";
        }
    }
}
