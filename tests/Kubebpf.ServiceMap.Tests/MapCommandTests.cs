using Kubebpf.Sdk.Events;
using Kubebpf.ServiceMap.Rendering;
using static Kubebpf.ServiceMap.Tests.Observations;

namespace Kubebpf.ServiceMap.Tests;

/// <summary><c>kubebpf map</c>: the snapshot the agent writes at each flush, printed as a table, DOT or Mermaid.</summary>
public sealed class MapCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kubebpf-map-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_map_the_agent_wrote_prints_as_a_table_a_DOT_graph_and_a_Mermaid_flowchart()
    {
        var options = new ServiceMapOptions { NodeName = "node-a", SnapshotFile = Path.Combine(_directory, "map", "service-map.json") };
        var map = new MapHarness(options);
        for (var i = 0; i < 220; i++)
        {
            map.Calls(Call(TrafficDirection.Out, i < 20 ? ExchangeOutcome.Error : ExchangeOutcome.Success, Client, Server));
        }

        map.Connections(Connection(TrafficDirection.Out, Client, null, Endpoint("192.0.2.1", 5432), clientBytes: 1_500, serverBytes: 500));
        map.Flush(1_700_000_000_000_000_000);
        map.Calls(Call(TrafficDirection.Out, client: Client, server: Server));
        map.Flush(1_700_000_010_000_000_000);

        var command = new MapCommand(options, TimeProvider.System);
        var table = await RunAsync(command);
        Assert.Contains("node node-a", table, StringComparison.Ordinal);
        Assert.Contains("3 nodes, 2 edges", table, StringComparison.Ordinal);
        Assert.Matches(@"shop/client\s+->\s+shop/server\s+221\s+20\s+2\.0 ms", table);
        Assert.Matches(@"shop/client\s+->\s+external\s+0\s+0\s+-\s+1\s+0\s+2 kB\s+0", table);

        var dot = await RunAsync(command, "--format", "dot");
        Assert.StartsWith("digraph service_map {", dot, StringComparison.Ordinal);
        Assert.Contains("\"shop/server\" [label=\"server\\nDeployment, shop\"];", dot, StringComparison.Ordinal);
        Assert.Contains("\"shop/client\" -> \"shop/server\" [label=\"221 calls, 20 errors, 2.0 ms\", color=red, fontcolor=red];", dot, StringComparison.Ordinal);
        Assert.Contains("\"shop/client\" -> \"external\" [label=\"1 connects, 2 kB\"];", dot, StringComparison.Ordinal);

        var mermaid = await RunAsync(command, "--format", "mermaid");
        Assert.Equal(
            [
                "flowchart LR",
                "  n0[\"external<br/><small>network</small>\"]",
                "  n1[\"client<br/><small>Deployment, shop</small>\"]",
                "  n2[\"server<br/><small>Deployment, shop</small>\"]",
                "  n1 -->|\"1 connects, 2 kB\"| n0",
                "  n1 -->|\"221 calls, 20 errors, 2.0 ms\"| n2",
                "  linkStyle 1 stroke:red,color:red",
            ],
            mermaid.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(2, MapDocument.Parse(await RunAsync(command, "--format", "json"))!.Edges.Count);
    }

    [Fact]
    public async Task Without_a_map_or_with_a_bad_argument_the_command_says_why_and_fails()
    {
        var command = new MapCommand(new ServiceMapOptions { SnapshotFile = Path.Combine(_directory, "none.json") }, TimeProvider.System);
        var output = new StringWriter();
        Assert.Equal(1, await command.RunAsync([], output, CancellationToken.None));
        Assert.Contains("is the agent running", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, await command.RunAsync(["--format", "svg"], new StringWriter(), CancellationToken.None));
    }

    private static async Task<string> RunAsync(MapCommand command, params string[] arguments)
    {
        var output = new StringWriter();
        Assert.Equal(0, await command.RunAsync(arguments, output, CancellationToken.None));
        return output.ToString();
    }
}
