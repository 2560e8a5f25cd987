using System.Text.RegularExpressions;
using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// The configuration the published agent ships (<c>kubebpf.json</c> beside it), as a newcomer's first
/// <c>kubebpf run</c> uses it. Needs no root (<c>kubebpf plugins</c> attaches nothing), but the published agent.
/// </summary>
[Trait("Category", "Agent")]
public sealed partial class DefaultConfigurationTests
{
    [Fact]
    public void Every_built_in_protocol_parser_is_on_by_default()
    {
        var listing = KernelTest.Run(Path.Combine(RepositoryPaths.PublishedAgent, "kubebpf"), "plugins");

        Assert.Equal(
            [("Dns", "dns/tcp dns/udp"), ("Http", "http/tcp"), ("MySql", "mysql/tcp")],
            ParsingInstance().Matches(listing).Select(m => (m.Groups["instance"].Value, m.Groups["protocols"].Value.Trim())).OrderBy(p => p.Item1, StringComparer.Ordinal));
        Assert.Matches(@"(?m)^Dns\s+Kubebpf\.Dns\s+Loaded\s+1 name source", listing);
    }

    // "<instance> <plugin> Loaded ... parses <protocol>/<transport> ...", one line per instance of `kubebpf plugins`.
    [GeneratedRegex(@"(?m)^(?<instance>\S+)\s+\S+\s+Loaded\s+.*parses (?<protocols>[a-z0-9_/ ]+)$")]
    private static partial Regex ParsingInstance();
}
