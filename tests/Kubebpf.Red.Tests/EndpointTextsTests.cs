using System.Net;
using Kubebpf.Red.CallLog;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Red.Tests;

public sealed class EndpointTextsTests
{
    [Theory]
    [InlineData("10.1.0.2", 80, "10.1.0.2:80")]
    [InlineData("10.1.0.2", 0, "10.1.0.2")]
    [InlineData("fd00::2", 8080, "[fd00::2]:8080")]
    [InlineData("fd00::2", 0, "fd00::2")]
    [InlineData("::ffff:10.1.0.2", 443, "[::ffff:10.1.0.2]:443")]
    public void Texts_are_what_the_endpoint_itself_writes(string address, ushort port, string expected)
    {
        var endpoint = new NetworkEndpoint(IPAddress.Parse(address).AddressFamily, Raw(IPAddress.Parse(address)), port);
        var texts = new EndpointTexts();

        Assert.Equal(expected, texts.Text(endpoint));
        Assert.Equal(expected, texts.Text(endpoint)); // from the cache
        Assert.Equal(endpoint.Port == 0 ? endpoint.AddressText : endpoint.ToString(), expected);
    }

    [Fact]
    public void Short_connections_beyond_both_bounds_still_get_exact_texts()
    {
        var texts = new EndpointTexts();
        for (var i = 0; i < 20_000; i++)
        {
            // A new client port on every call, over more addresses than the address table holds.
            var endpoint = NetworkEndpoint.From(new IPAddress([10, 2, (byte)(i >> 8 & 0x1F), (byte)i]), (ushort)(32768 + i));
            Assert.Equal(endpoint.ToString(), texts.Text(endpoint));
        }
    }

    private static UInt128 Raw(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        UInt128 value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }

        return value;
    }
}
