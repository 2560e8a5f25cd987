using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kubebpf.Http.Tests;

public class HttpPluginTests
{
    [Fact]
    public void The_plugin_registers_http_as_a_stream_protocol_with_its_options()
    {
        var protocol = Register(new() { ["Ports:0"] = "8080", ["Ports:1"] = "80", ["Sniff"] = "false", ["MaxHeadBytes"] = "4096" });

        Assert.Same(HttpProtocolDescriptor.Instance, protocol.Descriptor);
        Assert.Equal([(ushort)8080, 80], protocol.Match.Ports);
        Assert.False(protocol.Match.Sniff);
        Assert.Equal(4096, protocol.MaxBufferedBytes);
    }

    [Fact]
    public void By_default_every_port_is_sniffed()
    {
        var protocol = Register([]);

        Assert.Equal((0, true, 16 * 1024), (protocol.Match.Ports.Count, protocol.Match.Sniff, protocol.MaxBufferedBytes));
    }

    [Theory]
    [InlineData("Interfaces:0", "veth*", "Interfaces")]
    [InlineData("CaptureBytes", "1024", "CaptureBytes")]
    [InlineData("MaxHeadBytes", "10", "MaxHeadBytes")]
    [InlineData("MaxPipelinedRequests", "0", "MaxPipelinedRequests")]
    [InlineData("Sniff", "false", "Sniff")]
    [InlineData("Ports:0", "0", "Ports")]
    [InlineData("RedactTokenMinLength", "4", "RedactTokenMinLength")]
    [InlineData("RedactPatterns:0", "(unclosed", "RedactPatterns")]
    [InlineData("RedactPatterns:0", "(?=lookahead)", "RedactPatterns")]
    [InlineData("RedactAfterSegments:0", "a/b", "RedactAfterSegments")]
    public void Unknown_keys_and_bad_values_are_rejected_naming_the_key(string key, string value, string named)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Register(new() { [key] = value }));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains("'Http'", error.Message, StringComparison.Ordinal);
    }

    private static IStreamProtocol Register(Dictionary<string, string?> settings) =>
        Assert.Single(PluginHarness.Configure(new HttpPlugin(), "Http", settings).GetServices<IStreamProtocol>());
}
