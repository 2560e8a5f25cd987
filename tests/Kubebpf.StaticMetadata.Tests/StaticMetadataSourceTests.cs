using System.Net;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kubebpf.StaticMetadata.Tests;

public sealed class StaticMetadataSourceTests : IDisposable
{
    private const string Version1 = "workloads:\n  - pod: api-1\n    interfaces: [vethkb-api]\n    ips: [10.213.0.12]\n";
    private const string Version2 = "workloads:\n  - pod: api-2\n    interfaces: [vethkb-api]\n    ips: [10.213.0.13]\n";

    private readonly TempFile _file = new("workloads.yaml", Version1);
    private readonly FakeTimeProvider _time = new();
    private readonly TestAgentMetrics _metrics = new();

    public void Dispose() => _file.Dispose();

    private StaticMetadataSource Create(TimeSpan? interval = null) => new(
        new StaticMetadataOptions { File = _file.Path, ReloadInterval = interval ?? TimeSpan.FromSeconds(2) },
        _time, _metrics, NullLogger<StaticMetadataSource>.Instance);

    private static string? PodAt(IWorkloadResolver source, string address) =>
        source.ResolveEndpoint(NetworkEndpoint.From(IPAddress.Parse(address), 80))?.Pod;

    [Fact]
    public void A_changed_file_replaces_the_snapshot_at_the_next_check()
    {
        using var source = Create();
        Assert.Equal("api-1", source.ResolveInterface("vethkb-api")?.Pod);

        _file.Write(Version2);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("api-1", source.ResolveInterface("vethkb-api")?.Pod);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("api-2", source.ResolveInterface("vethkb-api")?.Pod);
        Assert.Equal("api-2", PodAt(source, "10.213.0.13"));
        Assert.Null(PodAt(source, "10.213.0.12"));
        Assert.Equal(1, _metrics.Value("workloads"));
    }

    [Fact]
    public void A_malformed_new_version_keeps_the_previous_snapshot_and_is_counted_once()
    {
        using var source = Create();

        _file.Write("workloads:\n  - pod: api-2\n    ips: [10.213.0.999]\n");
        _time.Advance(TimeSpan.FromSeconds(2));
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal("api-1", PodAt(source, "10.213.0.12"));
        Assert.Equal(1, _metrics.Value("reload_errors"));

        _file.Write(Version2);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("api-2", PodAt(source, "10.213.0.13"));
        Assert.Equal(1, _metrics.Value("reload_errors"));
    }

    [Fact]
    public void A_deleted_file_keeps_the_previous_snapshot()
    {
        using var source = Create();

        File.Delete(_file.Path);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal("api-1", PodAt(source, "10.213.0.12"));
        Assert.Equal(1, _metrics.Value("reload_errors"));
    }

    [Fact]
    public void Reloading_can_be_turned_off()
    {
        using var source = Create(TimeSpan.Zero);

        _file.Write(Version2);
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal("api-1", source.ResolveInterface("vethkb-api")?.Pod);
    }

    [Fact]
    public void A_malformed_file_at_start_up_fails_with_its_path_and_line()
    {
        _file.Write("workloads:\n  - pod: a\n    ips: [bad]\n");

        var error = Assert.Throws<WorkloadFileException>(() => Create());

        Assert.StartsWith($"{_file.Path}:3: workloads[0].ips[0]: 'bad' is not an IP address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_plugin_registers_the_source_from_its_configuration_section()
    {
        using var provider = BuildPlugin(new() { ["File"] = _file.Path, ["ReloadInterval"] = "00:00:05" });

        var source = provider.GetRequiredService<IWorkloadMetadataSource>();

        Assert.Equal("api-1", source.ResolveInterface("vethkb-api")?.Pod);
        Assert.Equal(TimeSpan.FromSeconds(5), provider.GetRequiredService<StaticMetadataOptions>().ReloadInterval);
    }

    [Fact]
    public void The_plugin_requires_a_file()
    {
        var error = Assert.Throws<OptionsValidationException>(() => BuildPlugin([]));

        Assert.StartsWith("Plugin 'StaticMetadata': File is required", error.Message, StringComparison.Ordinal);
    }

    private ServiceProvider BuildPlugin(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton<IAgentMetrics>(_metrics);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        new StaticMetadataPlugin().ConfigureServices(services, new PluginContext("StaticMetadata", ".", configuration));
        return services.BuildServiceProvider();
    }
}
