using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
            ["LossCounterKeywords:0"] = "retr",
        }, ConsoleOutput.Create(output, isTerminal: false));

        var options = provider.GetRequiredService<ConsoleSinkOptions>();
        await provider.GetRequiredService<IPointSink>().WriteAsync([Points.Call("in", "GET", "/x", 200, 1_000_000)], CancellationToken.None);

        Assert.True(options.ShowCallLog);
        Assert.Equal(5, options.MaxRows);
        Assert.Equal(["retr"], options.LossCounterKeywords ?? []);
        Assert.Contains("GET /x 200 1.00 ms", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Out_of_range_values_name_the_key()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(new() { ["MaxRows"] = "0" }, null));

        Assert.Equal("Plugins:Console:MaxRows must be at least 1 (it is 0)", error.Message);
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
