using System.Net;
using Kubebpf.Sdk.Net;

namespace Kubebpf.StaticMetadata.Tests;

public sealed class LookupTests
{
    private readonly WorkloadSnapshot _snapshot = WorkloadSnapshot.Build("w.yaml", WorkloadFileParser.Parse("w.yaml", Samples.Yaml));

    private string? PodAt(string address, ushort port) => _snapshot.ResolveEndpoint(NetworkEndpoint.From(IPAddress.Parse(address), port))?.Pod;

    [Theory]
    [InlineData("10.213.0.12", 80, "api-7d9f6c5b8-x2k4p")]
    [InlineData("10.213.0.12", 0, "api-7d9f6c5b8-x2k4p")]
    [InlineData("10.213.0.11", 43210, "web-0")]
    [InlineData("fd00:10:213::12", 8080, "api-7d9f6c5b8-x2k4p")]
    [InlineData("::ffff:10.213.0.11", 80, "web-0")]
    public void An_address_resolves_on_any_port(string address, ushort port, string pod) =>
        Assert.Equal(pod, PodAt(address, port));

    [Theory]
    [InlineData(9100, "node-exporter-abcde")]
    [InlineData(22, "node-1")]
    [InlineData(0, "node-1")]
    public void A_shared_host_address_resolves_by_port_first(ushort port, string pod) =>
        Assert.Equal(pod, PodAt("192.168.1.5", port));

    [Theory]
    [InlineData("172.16.200.1", "office")]
    [InlineData("172.16.4.9", "office-printer")]
    [InlineData("2001:db8:1::5", "office")]
    public void Blocks_match_with_the_longest_prefix_winning(string address, string pod) =>
        Assert.Equal(pod, PodAt(address, 443));

    [Theory]
    [InlineData("10.213.0.99")]
    [InlineData("fd00:10:213::99")]
    [InlineData("172.17.0.1")]
    [InlineData("::ffff:10.213.0.99")]
    public void Unknown_addresses_resolve_to_null(string address) => Assert.Null(PodAt(address, 80));

    [Fact]
    public void Interfaces_resolve_by_exact_name()
    {
        Assert.Equal("web-0", _snapshot.ResolveInterface("vethkb-web")?.Pod);
        Assert.Null(_snapshot.ResolveInterface("vethkb-WEB"));
        Assert.Null(_snapshot.ResolveInterface("eth0"));
    }

    [Fact]
    public void Every_lookup_of_one_workload_returns_the_same_instance()
    {
        var byInterface = _snapshot.ResolveInterface("vethkb-api");

        Assert.Same(byInterface, _snapshot.ResolveEndpoint(NetworkEndpoint.From(IPAddress.Parse("10.213.0.12"), 80)));
        Assert.Same(byInterface, _snapshot.ResolveEndpoint(NetworkEndpoint.From(IPAddress.Parse("fd00:10:213::12"), 81)));
    }

    [Fact]
    public void Lookups_do_not_allocate()
    {
        var endpoints = new[] { "10.213.0.12", "192.168.1.5", "172.16.4.9", "2001:db8::1", "10.9.9.9", "::ffff:10.213.0.11" }
            .Select(a => NetworkEndpoint.From(IPAddress.Parse(a), 9100)).ToArray();
        var names = new[] { "vethkb-api", "eth0" };
        Lookups(endpoints, names); // JIT and tiering first

        var before = GC.GetAllocatedBytesForCurrentThread();
        Lookups(endpoints, names);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private int Lookups(NetworkEndpoint[] endpoints, string[] names)
    {
        var found = 0;
        for (var i = 0; i < 10_000; i++)
        {
            foreach (var endpoint in endpoints)
            {
                found += _snapshot.ResolveEndpoint(endpoint) is null ? 0 : 1;
            }

            foreach (var name in names)
            {
                found += _snapshot.ResolveInterface(name) is null ? 0 : 1;
            }
        }

        return found;
    }
}
