using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kubebpf.MySql.Tests;

public class MySqlPluginTests
{
    [Fact]
    public void The_plugin_registers_mysql_as_a_stream_protocol_on_port_3306_sniffing_greetings()
    {
        var protocol = Register([]);

        Assert.Same(MySqlProtocolDescriptor.Instance, protocol.Descriptor);
        Assert.Equal([(ushort)3306], protocol.Match.Ports);
        Assert.True(protocol.Match.Sniff);
        Assert.Equal(("mysql_requests", "mysql_red", "fingerprint"), (protocol.Descriptor.CallLogMeasurement, protocol.Descriptor.RedMeasurement, protocol.Descriptor.ResourceTag));
    }

    [Fact]
    public void Configured_ports_replace_the_default_and_sniffing_can_be_turned_off()
    {
        var protocol = Register(new() { ["Ports:0"] = "13306", ["Ports:1"] = "3307", ["Sniff"] = "false" });

        Assert.Equal([(ushort)13306, 3307], protocol.Match.Ports);
        Assert.False(protocol.Match.Sniff);
    }

    [Theory]
    [InlineData("Interfaces:0", "veth*", "Interfaces")]
    [InlineData("MaxStatementBytes", "10", "MaxStatementBytes")]
    [InlineData("MaxFingerprintLength", "5000", "MaxFingerprintLength")]
    [InlineData("MaxPipelinedCommands", "0", "MaxPipelinedCommands")]
    [InlineData("MaxPreparedStatements", "-1", "MaxPreparedStatements")]
    [InlineData("Ports:0", "0", "Ports")]
    public void Unknown_keys_and_bad_values_are_rejected_naming_the_key(string key, string value, string named)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Register(new() { [key] = value }));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains("'MySql'", error.Message, StringComparison.Ordinal);
    }

    private static IStreamProtocol Register(Dictionary<string, string?> settings) =>
        Assert.Single(PluginHarness.Configure(new MySqlPlugin(), "MySql", settings).GetServices<IStreamProtocol>());
}
