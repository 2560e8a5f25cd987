using Kubebpf.Dns.Parsing;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kubebpf.Dns.Tests;

public class DnsPluginTests
{
    [Fact]
    public void The_plugin_registers_dns_over_udp_and_tcp_and_its_learned_names_sharing_one_state()
    {
        var services = Register(new() { ["Ports:0"] = "53", ["Ports:1"] = "5353", ["MaxLearnedNames"] = "10" });
        var udp = Assert.Single(services.GetServices<IDatagramProtocol>());
        var tcp = Assert.Single(services.GetServices<IStreamProtocol>());

        Assert.Same(DnsProtocolDescriptor.Instance, udp.Descriptor);
        Assert.Same(DnsProtocolDescriptor.Instance, tcp.Descriptor);
        Assert.Equal([(ushort)53, 5353], udp.Match.Ports);
        Assert.Same(udp.Match, tcp.Match);
        Assert.False(udp.Match.Sniff);
        Assert.Equal(2 + 65535, tcp.MaxBufferedBytes);
        Assert.Equal([(ushort)53], Register([]).GetRequiredService<DnsState>().Match.Ports);
        Assert.Equal([(ushort)5353], Register(new() { ["Ports:0"] = "5353" }).GetRequiredService<DnsState>().Match.Ports);
        Assert.Same(services.GetRequiredService<DnsState>().Names, Assert.Single(services.GetServices<IPeerNameSource>()));
    }

    [Theory]
    [InlineData("Port", "53", "Port")]
    [InlineData("Ports:0", "0", "Ports")]
    [InlineData("Timeout", "00:00:00", "Timeout")]
    [InlineData("MaxPendingQueries", "0", "MaxPendingQueries")]
    [InlineData("MaxLearnedNames", "-1", "MaxLearnedNames")]
    [InlineData("SearchExpansionWindow", "00:00:06", "SearchExpansionWindow")]
    [InlineData("SearchDomains:0", ".", "SearchDomains")]
    [InlineData("MaxExpansionClients", "0", "MaxExpansionClients")]
    public void Unknown_keys_and_bad_values_are_rejected_naming_the_key(string key, string value, string named)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Register(new() { [key] = value }));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains("'Dns'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Details_write_the_fields_the_descriptor_declares()
    {
        var declared = DnsProtocolDescriptor.Instance.DetailFields.ToDictionary(f => f.Key);
        foreach (var details in new[] { new DnsDetails("udp", 2, true, "10.0.0.1", false), new DnsDetails("tcp", 0, false, null, true) })
        {
            var fields = new Field[details.FieldCount];
            details.WriteFields(fields);
            Assert.All(fields, f => Assert.Equal(declared[f.Key].Kind, f.Value.Kind));
            Assert.Equal(declared.Values.Where(f => f.Required).Select(f => f.Key).Order(), fields.Select(f => f.Key).Where(k => declared[k].Required).Order());
        }
    }

    [Theory]
    [InlineData(53, 40000, false, SniffResult.SenderIsServer)] // an answer from the resolver port
    [InlineData(40000, 53, true, SniffResult.SenderIsClient)]
    [InlineData(40000, 53, false, SniffResult.SenderIsServer)] // QR decides over the port
    [InlineData(40000, 41000, true, SniffResult.NotThisProtocol)] // another port, sniffing off
    public void Flows_are_claimed_by_port_and_sides_told_by_the_qr_bit(int from, int to, bool query, SniffResult expected)
    {
        var message = query ? DnsWire.Query(1, "a.example") : DnsWire.Answer(1, "a.example", DnsWire.A, 0);

        Assert.Equal(expected, DnsSniffer.Sniff(message, new SniffContext((ushort)from, (ushort)to, null), new ProtocolMatch([53], Sniff: false)));
    }

    [Fact]
    public void Sniffing_other_ports_claims_only_a_whole_standard_message()
    {
        var match = new ProtocolMatch([53], Sniff: true);
        var context = new SniffContext(40000, 41000, null);

        Assert.Equal(SniffResult.SenderIsClient, DnsSniffer.Sniff(DnsWire.Query(1, "a.example"), context, match));
        Assert.Equal(SniffResult.NotThisProtocol, DnsSniffer.Sniff("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8, context, match));
        Assert.Equal(SniffResult.NotThisProtocol, DnsSniffer.Sniff(DnsWire.Query(1, "a.example")[..14], context, match));
    }

    [Theory]
    [InlineData("web.shop.svc.cluster.local", "web.shop.svc.cluster.local")]
    [InlineData("10.2.0.192.in-addr.arpa", "{ip}.in-addr.arpa")]
    [InlineData("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "{ip}.ip6.arpa")]
    [InlineData("in-addr.arpa", "in-addr.arpa")]
    public void Query_name_tags_collapse_reverse_lookups(string name, string tag)
    {
        var destination = new char[QueryNames.MaxTagLength];
        Assert.Equal(tag, new string(destination, 0, QueryNames.Normalize(name, destination)));
        Assert.Equal(QueryNames.Long, new string(destination, 0, QueryNames.Normalize(new string('a', 300), destination)));
    }

    private static ServiceProvider Register(Dictionary<string, string?> settings) => PluginHarness.Configure(new DnsPlugin(), "Dns", settings);
}
