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
        Assert.Equal<object>(
            [provider.GetRequiredService<RedAggregator>(), provider.GetRequiredService<CallLogWriter>()], [.. provider.GetServices<IFlushable>()]);
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
        Assert.IsType<RedAggregator>(Assert.Single(provider.GetServices<IFlushable>()));
    }

    [Fact]
    public void Binds_every_option()
    {
        using var provider = Configure(new()
        {
            ["CallLog:Enabled"] = "false",
            ["MaxRoutesPerWorkload"] = "20",
            ["MaxSeries"] = "500",
            ["CallLog:Sampling:Enabled"] = "false",
            ["CallLog:Sampling:PerSecond"] = "7",
            ["CallLog:Sampling:AtOncePerSecond"] = "9",
            ["CallLog:Sampling:SlowThreshold"] = "00:00:00.250",
            ["CallLog:Sampling:MaxWorkloads"] = "3",
            ["CallLog:Sampling:Overrides:0:Workload"] = "payments/*",
            ["CallLog:Sampling:Overrides:0:Protocol"] = "dns",
            ["CallLog:Sampling:Overrides:0:PerSecond"] = "0",
            ["CallLog:Sampling:Overrides:0:AtOncePerSecond"] = "0",
            ["CallLog:Sampling:Overrides:0:SlowThreshold"] = "00:00:02",
        });

        var options = provider.GetRequiredService<IOptions<RedOptions>>().Value;
        Assert.False(options.CallLog.Enabled);
        Assert.Equal(20, options.MaxRoutesPerWorkload);
        Assert.Equal(500, options.MaxSeries);
        var sampling = options.CallLog.Sampling;
        Assert.Equal(
            (false, 7, 9, TimeSpan.FromMilliseconds(250), 3),
            (sampling.Enabled, sampling.PerSecond, sampling.AtOncePerSecond, sampling.SlowThreshold, sampling.MaxWorkloads));
        var entry = Assert.Single(sampling.Overrides);
        Assert.Equal(
            ("payments/*", "dns", (int?)0, (int?)0, (TimeSpan?)TimeSpan.FromSeconds(2)),
            (entry.Workload, entry.Protocol, entry.PerSecond, entry.AtOncePerSecond, entry.SlowThreshold));
    }

    [Fact]
    public void The_call_log_samples_by_default()
    {
        var sampling = new RedOptions().CallLog.Sampling;

        Assert.Equal(
            (true, 100, 100, TimeSpan.FromMilliseconds(100), 200),
            (sampling.Enabled, sampling.PerSecond, sampling.AtOncePerSecond, sampling.SlowThreshold, sampling.MaxWorkloads));
        Assert.Empty(sampling.Overrides);
    }

    [Theory]
    [InlineData("MaxSeries", "-1", "Plugin 'red': MaxSeries must be between 1 and 1000000, got -1.")]
    [InlineData("MaxSeries", "2000000", "Plugin 'red': MaxSeries must be between 1 and 1000000, got 2000000.")]
    [InlineData("MaxRoutesPerWorkload", "0", "Plugin 'red': MaxRoutesPerWorkload must be between 1 and MaxSeries (10000), got 0.")]
    [InlineData("MaxRoutesPerWorkload", "20000", "Plugin 'red': MaxRoutesPerWorkload must be between 1 and MaxSeries (10000), got 20000.")]
    [InlineData("CallLog:Sampling:PerSecond", "-1", "Plugin 'red': CallLog:Sampling:PerSecond must be between 0 and 1000000, got -1.")]
    [InlineData("CallLog:Sampling:AtOncePerSecond", "-1", "Plugin 'red': CallLog:Sampling:AtOncePerSecond must be between 0 (no bound) and 1000000, got -1.")]
    [InlineData("CallLog:Sampling:Overrides:0:AtOncePerSecond", "1000001", "Plugin 'red': CallLog:Sampling:Overrides:0:AtOncePerSecond must be between 0 (no bound) and 1000000, got 1000001.")]
    [InlineData("CallLog:Sampling:SlowThreshold", "00:00:00", "Plugin 'red': CallLog:Sampling:SlowThreshold must be positive, got 00:00:00.")]
    [InlineData("CallLog:Sampling:MaxWorkloads", "0", "Plugin 'red': CallLog:Sampling:MaxWorkloads must be between 1 and 100000, got 0.")]
    [InlineData("CallLog:Sampling:Overrides:0:PerSecond", "2000000", "Plugin 'red': CallLog:Sampling:Overrides:0:PerSecond must be between 0 and 1000000, got 2000000.")]
    [InlineData("CallLog:Sampling:Overrides:0:Workload", "", "Plugin 'red': CallLog:Sampling:Overrides:0:Workload must be a namespace/name pattern (* and ? as wildcards), got an empty one.")]
    public void Out_of_range_values_fail_with_a_message_naming_the_key(string key, string value, string expected)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Configure(new() { [key] = value }));

        Assert.Equal([expected], error.Failures);
    }

    [Theory]
    [InlineData("MaxSerie", "10", "MaxSerie")]
    [InlineData("MaxSeries", "many", "MaxSeries")]
    [InlineData("CallLog:Enabled", "yes please", "CallLog:Enabled")]
    [InlineData("CallLog:Sampling:Rate", "10", "Rate")]
    [InlineData("CallLog:Sampling:Overrides:0:Namespace", "shop", "Namespace")]
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
