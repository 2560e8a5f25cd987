using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>Configuration binding, API version inference and validation messages, through the plugin's own registration.</summary>
public sealed class InfluxDbPluginTests
{
    [Fact]
    public void Without_2x_settings_the_sink_is_1x_with_the_documented_defaults()
    {
        using var services = Build([]);

        var options = services.GetRequiredService<IOptions<InfluxDbSinkOptions>>().Value;

        Assert.IsType<InfluxDbV1Sink>(services.GetRequiredService<IPointSink>());
        Assert.Equal((1, "http://localhost:8086", "kubebpf", "kubebpf_2d", "2d", true), (options.ApiVersion, options.Url, options.Database, options.RetentionPolicy, options.RetentionDuration, options.CreateDatabase));
        Assert.Equal(TimeSpan.FromSeconds(10), options.Timeout);
    }

    [Fact]
    public void Org_bucket_and_token_select_the_2x_sink()
    {
        using var services = Build(new() { ["Org"] = "o", ["Bucket"] = "b", ["Token"] = "t", ["Timeout"] = "00:00:05" });

        Assert.IsType<InfluxDbV2Sink>(services.GetRequiredService<IPointSink>());
        Assert.Equal(TimeSpan.FromSeconds(5), services.GetRequiredService<IOptions<InfluxDbSinkOptions>>().Value.Timeout);
    }

    [Fact]
    public void Invalid_settings_fail_with_messages_naming_each_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Build(new() { ["Url"] = "influx:8086", ["ApiVersion"] = "2", ["Org"] = "o", ["GzipThresholdBytes"] = "-1" }));

        Assert.Contains("Plugin 'influx-a': Url must be an absolute http:// or https:// URL (got 'influx:8086').", error.Failures);
        Assert.Contains("Plugin 'influx-a': Bucket must be set for InfluxDB 2.x.", error.Failures);
        Assert.Contains($"Plugin 'influx-a': Token (or the environment variable {InfluxDbSinkOptions.TokenEnvironmentVariable}) must be set for InfluxDB 2.x.", error.Failures);
        Assert.Contains("Plugin 'influx-a': GzipThresholdBytes must be 0 or more (got -1).", error.Failures);
    }

    [Fact]
    public void A_bad_retention_duration_is_refused()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Build(new() { ["RetentionDuration"] = "two days" }));

        Assert.Contains(error.Failures, f => f.StartsWith("Plugin 'influx-a': RetentionDuration must be an InfluxQL duration", StringComparison.Ordinal));
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IAgentMetrics>(new TestAgentMetrics());
        var context = new PluginContext("influx-a", AppContext.BaseDirectory, configuration);
        services.AddSingleton(context);
        new InfluxDbPlugin().ConfigureServices(services, context);
        return services.BuildServiceProvider();
    }
}
