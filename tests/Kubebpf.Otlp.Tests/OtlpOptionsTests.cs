using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Microsoft.Extensions.Options;

namespace Kubebpf.Otlp.Tests;

public sealed class OtlpOptionsTests
{
    [Fact]
    public void The_defaults_are_valid_and_as_agreed_for_issue_16()
    {
        var options = new OtlpOptions();
        Assert.Empty(options.Validate());
        Assert.Equal(("grpc", false, "cumulative"), (options.Protocol, options.CallLog.Enabled, options.Temporality));
        Assert.Equal((true, 100, 100), (options.CallLog.Sampling.Enabled, options.CallLog.Sampling.PerSecond, options.CallLog.Sampling.AtOncePerSecond));
    }

    [Theory]
    [InlineData("Protokoll", "grpc", "Protokoll")]
    [InlineData("Protocol", "http/json", "Protocol")]
    [InlineData("Endpoint", "collector:4317", "Endpoint")]
    [InlineData("Headers", "api-key", "Headers")]
    [InlineData("Temporality", "monthly", "Temporality")]
    [InlineData("CardinalityLimit", "1", "CardinalityLimit")]
    [InlineData("CallLog:MaxQueueSize", "0", "CallLog:MaxQueueSize")]
    [InlineData("ExportInterval", "00:00:00", "ExportInterval")]
    [InlineData("CallLog:Sampling:AtOncePerSecond", "-1", "CallLog:Sampling:AtOncePerSecond must be between 0 (no bound) and 1000000, got -1.")]
    [InlineData("CallLog:Sampling:Overrides:0:SlowThreshold", "00:00:00", "CallLog:Sampling:Overrides:0:SlowThreshold must be positive")]
    [InlineData("CallLog:Sampling:Rate", "10", "Rate")]
    public void A_bad_or_unknown_key_fails_the_load_naming_it(string key, string value, string named)
    {
        var error = Assert.Throws<OptionsValidationException>(() => PluginHarness.Configure(new OtlpPlugin(), "Otlp", new() { [key] = value }));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains("Plugin 'Otlp'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_header_is_named_by_position_never_by_its_text()
    {
        var error = Assert.Throws<OptionsValidationException>(
            () => PluginHarness.Configure(new OtlpPlugin(), "Otlp", new() { ["Headers"] = "x-team=a,Bearer s3cr3t" }));
        Assert.Contains("entry 2", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Well_formed_headers_pass()
    {
        Assert.Empty(new OtlpOptions { Headers = "api-key=abc, x-tenant = t1" }.Validate());
    }

    [Fact]
    public void The_plugin_is_a_sink_of_self_metrics_and_an_exchange_subscriber_whose_call_log_drains_at_each_flush()
    {
        using var provider = PluginHarness.Configure(new OtlpPlugin(), "Otlp", new() { ["CallLog:Enabled"] = "true" });
        Assert.Single(provider.GetServicesOf<IPointSink>());
        Assert.Equal(2, provider.GetServicesOf<EventSubscription>().Count(s => s.EventType == typeof(Sdk.Events.Exchange)));
        Assert.IsType<CallLog.CallLogExporter>(Assert.Single(provider.GetServicesOf<IFlushable>()));
    }
}

internal static class ProviderExtensions
{
    public static IEnumerable<T> GetServicesOf<T>(this IServiceProvider provider) =>
        (IEnumerable<T>?)provider.GetService(typeof(IEnumerable<T>)) ?? [];
}
