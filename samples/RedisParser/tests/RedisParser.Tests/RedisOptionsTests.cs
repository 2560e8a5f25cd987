using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RedisParser.Tests;

public sealed class RedisOptionsTests
{
    [Fact]
    public void Without_configuration_the_plugin_registers_redis_on_6379_with_sniffing()
    {
        var protocol = Register([]);

        Assert.Equal("redis", protocol.Descriptor.Name);
        Assert.Equal([(ushort)6379], protocol.Match.Ports);
        Assert.Equal((true, 4096), (protocol.Match.Sniff, protocol.MaxBufferedBytes));
    }

    [Fact]
    public void Configured_ports_replace_the_default_and_every_option_binds()
    {
        var protocol = Register(new()
        {
            ["Ports:0"] = "7000",
            ["Ports:1"] = "7001",
            ["Sniff"] = "false",
            ["MaxBufferedBytes"] = "1024",
            ["MaxPipelinedCommands"] = "8",
        });

        Assert.Equal([(ushort)7000, (ushort)7001], protocol.Match.Ports);
        Assert.Equal((false, 1024), (protocol.Match.Sniff, protocol.MaxBufferedBytes));
    }

    [Theory]
    [InlineData("Port", "6380", "Port")]
    [InlineData("MaxBufferedBytes", "10", "MaxBufferedBytes must be 256 to 1048576 (was 10)")]
    [InlineData("MaxPipelinedCommands", "0", "MaxPipelinedCommands must be 1 to 1000000 (was 0)")]
    [InlineData("Ports:0", "0", "Ports: 0 is not a port.")]
    [InlineData("Ports:0", "70000", "invalid configuration value")]
    public void Unknown_keys_and_values_out_of_range_stop_the_instance_with_a_message_naming_the_key(string key, string value, string message)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Register(new() { [key] = value }));

        Assert.Contains("Plugin 'redis'", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static IStreamProtocol Register(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IAgentMetrics>(new TestMetrics());
        new RedisPlugin().ConfigureServices(services, new PluginContext("redis", AppContext.BaseDirectory, configuration));
        return services.BuildServiceProvider().GetRequiredService<IStreamProtocol>();
    }
}
