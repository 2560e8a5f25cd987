using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.ServiceMap.Rendering;

/// <summary><c>kubebpf map [--format text|dot|mermaid|json]</c>: prints the map the running agent last wrote on this node.</summary>
internal sealed class MapCommand(ServiceMapOptions options, TimeProvider time) : IAgentCommand
{
    public string Name => "map";

    public string Description => "print this node's service map, as the running agent last wrote it: kubebpf map [--format text|dot|mermaid|json]";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(output);
        var format = "text";
        for (var i = 0; i < arguments.Count; i++)
        {
            if (arguments[i] == "--format" && i + 1 < arguments.Count && MapRenderer.Formats.Contains(arguments[i + 1]))
            {
                format = arguments[++i];
            }
            else
            {
                await output.WriteLineAsync($"kubebpf map: unexpected '{arguments[i]}'. {Description}");
                return 2;
            }
        }

        if (options.SnapshotFile.Length == 0 || !File.Exists(options.SnapshotFile))
        {
            await output.WriteLineAsync($"kubebpf map: no map at '{options.SnapshotFile}' yet: is the agent running here with the ServiceMap plugin (it writes the file at each flush)?");
            return 1;
        }

        var map = MapDocument.Parse(await File.ReadAllTextAsync(options.SnapshotFile, cancellationToken));
        if (map is null)
        {
            await output.WriteLineAsync($"kubebpf map: '{options.SnapshotFile}' is not a service map.");
            return 1;
        }

        await output.WriteAsync(MapRenderer.Render(map, format, time.GetUtcNow()));
        return 0;
    }
}
