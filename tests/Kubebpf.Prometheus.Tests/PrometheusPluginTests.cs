using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kubebpf.Prometheus.Tests;

public sealed class PrometheusPluginTests
{
    [Fact]
    public void The_defaults_listen_on_9464_without_remote_write()
    {
        var options = new PrometheusOptions();
        Assert.Empty(options.Validate());
        Assert.Equal(("0.0.0.0", 9464), options.ListenEndpoint());
        Assert.False(options.RemoteWrite.IsEnabled());
    }

    [Theory]
    [InlineData("", "http://127.0.0.1:9090/api/v1/write", "RemoteWriter")]
    [InlineData("127.0.0.1:9464", "", "ScrapeEndpoint")]
    [InlineData("[::]:9464", "http://127.0.0.1:9090/api/v1/write", "ScrapeEndpoint,RemoteWriter")]
    public void The_scrape_endpoint_and_the_remote_writer_run_only_when_configured(string listen, string url, string expected)
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ListenAddress"] = listen, ["RemoteWrite:Url"] = url })
            .Build();
        new PrometheusPlugin().ConfigureServices(services, new PluginContext("Prometheus", "", configuration));

        var probes = services.Where(d => d.ServiceType == typeof(IProbe)).Select(d => d.ImplementationType!.Name);
        Assert.Equal(expected, string.Join(',', probes));
        Assert.Single(services, d => d.ServiceType == typeof(IPointSink));
    }

    [Theory]
    [InlineData("Listen", "9464", "Listen")]
    [InlineData("ListenAddress", "9464", "ListenAddress must be host:port")]
    [InlineData("ListenAddress", "0.0.0.0:99999", "ListenAddress must be host:port")]
    [InlineData("MaxSeries", "0", "MaxSeries must be between")]
    [InlineData("RemoteWrite:Url", "prometheus:9090", "RemoteWrite:Url must be an absolute http or https URL")]
    [InlineData("RemoteWrite:Token", "x", "Token")]
    [InlineData("RemoteWrite:NativeHistograms", "true", "RemoteWrite:NativeHistograms is set but Url is empty")]
    [InlineData("RemoteWrite:NativeHistograms", "maybe", "NativeHistograms")]
    public void Unknown_keys_and_bad_values_are_refused_at_load_naming_the_key(string key, string value, string expected)
    {
        var error = Assert.Throws<OptionsValidationException>(() => PluginHarness.Configure(new PrometheusPlugin(), "Prometheus", new() { [key] = value }));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("Prometheus", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Basic_and_bearer_auth_are_exclusive()
    {
        var options = new PrometheusOptions { RemoteWrite = { Url = "http://p:9090/api/v1/write", Username = "u", Password = "p", BearerToken = "t" } };
        Assert.Contains(options.Validate(), e => e.Contains("exclusive", StringComparison.Ordinal));
    }
}
