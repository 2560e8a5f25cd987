using Kubebpf.Red.Aggregation;
using Kubebpf.Red.CallLog;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kubebpf.Red.Tests;

public class RedPluginTests
{
    [Fact]
    public void Registers_the_aggregator_as_subscriber_and_flushable_and_the_call_log_by_default()
    {
        using var provider = Configure([]);

        var subscribers = provider.GetServices<EventSubscription>().Select(s => s.SubscriberType).ToArray();
        Assert.Equal([typeof(RedAggregator), typeof(CallLogWriter)], subscribers);
        Assert.All(provider.GetServices<EventSubscription>(), s => Assert.Equal(typeof(Exchange), s.EventType));
        Assert.Same(provider.GetRequiredService<RedAggregator>(), Assert.Single(provider.GetServices<IFlushable>()));
        Assert.NotNull(provider.GetRequiredService<CallLogWriter>());
    }

    [Fact]
    public void Declares_the_protocol_independent_pattern_of_its_measurements()
    {
        using var provider = Configure([]);

        Assert.Equal(["<protocol>_requests", "<protocol>_red"], provider.GetServices<MeasurementContract>().Select(c => c.Name));
    }

    [Fact]
    public void The_call_log_can_be_disabled()
    {
        using var provider = Configure(new() { ["CallLog:Enabled"] = "false" });

        Assert.Equal([typeof(RedAggregator)], provider.GetServices<EventSubscription>().Select(s => s.SubscriberType));
    }

    [Fact]
    public void Binds_every_option()
    {
        using var provider = Configure(new()
        {
            ["CallLog:Enabled"] = "false",
            ["MaxRoutesPerWorkload"] = "20",
            ["MaxSeries"] = "500",
        });

        var options = provider.GetRequiredService<IOptions<RedOptions>>().Value;
        Assert.False(options.CallLog.Enabled);
        Assert.Equal(20, options.MaxRoutesPerWorkload);
        Assert.Equal(500, options.MaxSeries);
    }

    [Theory]
    [InlineData("MaxSeries", "-1", "Plugin 'red': MaxSeries must be between 1 and 1000000, got -1.")]
    [InlineData("MaxSeries", "2000000", "Plugin 'red': MaxSeries must be between 1 and 1000000, got 2000000.")]
    [InlineData("MaxRoutesPerWorkload", "0", "Plugin 'red': MaxRoutesPerWorkload must be between 1 and MaxSeries (10000), got 0.")]
    [InlineData("MaxRoutesPerWorkload", "20000", "Plugin 'red': MaxRoutesPerWorkload must be between 1 and MaxSeries (10000), got 20000.")]
    public void Out_of_range_values_fail_with_a_message_naming_the_key(string key, string value, string expected)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Configure(new() { [key] = value }));

        Assert.Equal([expected], error.Failures);
    }

    [Theory]
    [InlineData("MaxSerie", "10", "MaxSerie")]
    [InlineData("MaxSeries", "many", "MaxSeries")]
    [InlineData("CallLog:Enabled", "yes please", "CallLog:Enabled")]
    [InlineData("CallLog:RecordQueryStrings", "true", "RecordQueryStrings")] // moved to the HTTP plugin
    public void Unknown_keys_and_unparsable_values_fail_naming_the_key(string key, string value, string named)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Configure(new() { [key] = value }));

        Assert.Contains(named, Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    private static ServiceProvider Configure(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IAgentMetrics>(new TestAgentMetrics());
        services.AddSingleton<IPointWriter>(new CollectingPointWriter());
        services.AddSingleton(TimeProvider.System);
        new RedPlugin().ConfigureServices(services, new PluginContext("red", AppContext.BaseDirectory, configuration));
        return services.BuildServiceProvider();
    }
}
