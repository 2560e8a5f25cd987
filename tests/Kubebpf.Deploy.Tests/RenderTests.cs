using Kubebpf.Testing;

namespace Kubebpf.Deploy.Tests;

/// <summary>deploy/lib/render.sh, the templates' renderer: placeholders are whole quoted scalars, conditional blocks nest, mistakes are named.</summary>
public sealed class RenderTests : IDisposable
{
    private readonly DeployFolder _deploy = new();

    [Fact]
    public void Placeholders_become_quoted_scalars_and_blocks_follow_their_flags_nested()
    {
        var result = Render("""
            name: {{ NAME }}
            list: [ {{NAME}}, x ]
            #@ if ON
            on: 1
              #@ if !ON
            never: 1
              #@ end
              #@ if OFF
            never: 2
              #@ end
            #@ end
            #@ if !OFF
            off: 1
            #@ end
            """);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal("name: \"a \\\"b\\\" \\\\c\\td\"\nlist: [ \"a \\\"b\\\" \\\\c\\td\", x ]\non: 1\noff: 1\n", result.Output);
    }

    [Theory]
    [InlineData("name: {{ NAME }}-suffix", "t.yaml:1: placeholder NAME is not a whole scalar")]
    [InlineData("name: prefix-{{ NAME }}", "t.yaml:1: placeholder NAME is not a whole scalar")]
    [InlineData("a: 1\nname: {{ OTHER }}", "t.yaml:2: unknown placeholder OTHER")]
    [InlineData("#@ if MAYBE\na: 1\n#@ end", "t.yaml:1: unknown flag MAYBE")]
    [InlineData("#@ if ON\na: 1", "t.yaml: #@ if without #@ end")]
    [InlineData("a: 1\n#@ end", "t.yaml:2: #@ end without #@ if")]
    [InlineData("#@ include x", "t.yaml:1: unknown directive")]
    public void Template_mistakes_fail_naming_the_template_and_line(string template, string message)
    {
        var result = Render(template);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_scripts_and_their_libraries_pass_shellcheck()
    {
        var deploy = Path.Combine(RepositoryPaths.Root, "deploy");

        var result = _deploy.Bash("cd \"$1\" && shellcheck -x install.sh uninstall.sh lib/*.sh", deploy);

        Assert.True(result.ExitCode == 0, $"shellcheck (./build.sh installs it): {result.Output}");
    }

    public void Dispose() => _deploy.Dispose();

    private ScriptResult Render(string template)
    {
        File.WriteAllText(Path.Combine(_deploy.Root, "t.yaml"), template + "\n");
        return _deploy.Bash(
            """
            set -euo pipefail
            die() { echo "$*" >&2; exit 1; }
            source "$1"
            render_values=([NAME]=$'a "b" \\c\td')
            render_flags=([ON]=1 [OFF]='')
            render t.yaml
            """,
            Path.Combine(RepositoryPaths.Root, "deploy", "lib", "render.sh"));
    }
}
