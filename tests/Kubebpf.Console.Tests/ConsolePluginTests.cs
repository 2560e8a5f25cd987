using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Spectre.Console;

namespace Kubebpf.Console.Tests;

public sealed class ConsolePluginTests
{
    [Fact]
    public async Task The_plugin_registers_a_sink_configured_from_its_section()
    {
        var output = new StringWriter();
        using var provider = Build(new()
        {
            ["ShowCallLog"] = "true",
            ["MaxRows"] = "5",
            ["MaxOtherSeries"] = "0",
            ["LossCounterKeywords:0"] = "retr",
        }, ConsoleOutput.Create(output, isTerminal: false));

        var options = provider.GetRequiredService<ConsoleSinkOptions>();
        await provider.GetRequiredService<IPointSink>().WriteAsync([Points.Call("in", "GET", "/x", 200, 1_000_000)], CancellationToken.None);

        Assert.True(options.ShowCallLog);
        Assert.Equal(5, options.MaxRows);
        Assert.Equal(0, options.MaxOtherSeries);
        Assert.Equal(["retr"], options.LossCounterKeywords ?? []);
        Assert.Contains("http GET /x 200 1.00 ms", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxRows", "0", "Plugin 'Console': MaxRows must be at least 1, got 0.")]
    [InlineData("MaxOtherSeries", "-1", "Plugin 'Console': MaxOtherSeries must be 0 (hidden) or more, got -1.")]
    [InlineData("Width", "-5", "Plugin 'Console': Width must be 0 (automatic) or a number of columns, got -5.")]
    [InlineData("AgentMeasurement", " ", "Plugin 'Console': AgentMeasurement must name a measurement.")]
    public void Out_of_range_values_name_the_key(string key, string value, string expected)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Build(new() { [key] = value }, null));

        Assert.Equal([expected], error.Failures);
    }

    [Fact]
    public void Unknown_keys_are_rejected_naming_the_key()
    {
        // RedMeasurement went away: every <protocol>_red measurement is shown.
        var error = Assert.Throws<OptionsValidationException>(() => Build(new() { ["RedMeasurement"] = "http_red" }, null));

        Assert.Contains("'RedMeasurement'", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings, IAnsiConsole? console)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        if (console is not null)
        {
            services.AddSingleton(console);
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        new ConsolePlugin().ConfigureServices(services, new PluginContext("Console", ".", configuration));
        return services.BuildServiceProvider();
    }
}
