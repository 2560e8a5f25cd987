using System.Net;
using Kubebpf.Http.Capture;
using Kubebpf.Http.Tracking;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Http.Tests;

public class ConnectionKeyTests
{
    [Theory]
    [InlineData("10.0.1.1", 40001, "10.0.0.2", 8080)]
    [InlineData("10.0.0.2", 8080, "10.0.0.2", 40001)]
    [InlineData("fd00::1:1", 40001, "fd00::2", 8080)]
    [InlineData("fe80::1", 40001, "fd00::1", 8080)]
    public void Both_directions_give_the_same_key_and_hash(string source, int sourcePort, string destination, int destinationPort)
    {
        var forward = ConnectionKey.Of(Header(3, source, sourcePort, destination, destinationPort), out var forwardFromLow);
        var backward = ConnectionKey.Of(Header(3, destination, destinationPort, source, sourcePort), out var backwardFromLow);

        Assert.Equal(forward, backward);
        Assert.True(forward == backward);
        Assert.Equal(forward.GetHashCode(), backward.GetHashCode());
        Assert.NotEqual(forwardFromLow, backwardFromLow);
    }

    [Fact]
    public void Low_is_the_smaller_address_then_the_smaller_port()
    {
        var key = ConnectionKey.Of(Header(uint.MaxValue, "10.0.1.1", 40001, "10.0.0.2", 8080), out var fromLow);
        Assert.False(fromLow);
        Assert.Equal(uint.MaxValue, key.IfIndex);
        Assert.Equal(Endpoint("10.0.0.2", 8080), key.Low);
        Assert.Equal(Endpoint("10.0.1.1", 40001), key.High);

        var samePod = ConnectionKey.Of(Header(3, "10.0.0.2", 8080, "10.0.0.2", 40001), out fromLow);
        Assert.True(fromLow);
        Assert.Equal(Endpoint("10.0.0.2", 8080), samePod.Low);

        var v6 = ConnectionKey.Of(Header(3, "fe80::1", 40001, "fd00::1", 8080), out fromLow);
        Assert.False(fromLow);
        Assert.Equal(Endpoint("fd00::1", 8080), v6.Low);
        Assert.Equal(Endpoint("fe80::1", 40001), v6.High);
    }

    [Theory]
    [InlineData(4, "10.0.1.1", 40001, "10.0.0.2", 8080)] // interface
    [InlineData(3, "10.0.1.1", 40002, "10.0.0.2", 8080)] // client port
    [InlineData(3, "10.0.1.1", 40001, "10.0.0.2", 8081)] // server port
    [InlineData(3, "10.0.1.1", 8080, "10.0.0.2", 40001)] // ports swapped between the ends
    [InlineData(3, "10.0.1.3", 40001, "10.0.0.2", 8080)] // client address
    [InlineData(3, "10.0.1.1", 40001, "10.0.0.3", 8080)] // server address
    [InlineData(3, "::a00:101", 40001, "::a00:2", 8080)] // the same numbers as IPv6 addresses
    public void Keys_differ_in_interface_ports_addresses_and_family(int ifIndex, string source, int sourcePort, string destination, int destinationPort)
    {
        var reference = ConnectionKey.Of(Header(3, "10.0.1.1", 40001, "10.0.0.2", 8080), out _);
        var other = ConnectionKey.Of(Header((uint)ifIndex, source, sourcePort, destination, destinationPort), out _);

        Assert.NotEqual(reference, other);
        Assert.True(reference != other);
        Assert.False(reference.Equals((object)other));
    }

    [Theory]
    [InlineData("fd00::1", "fd00::2")] // low words
    [InlineData("fd00::1", "fd01::1")] // high words
    public void IPv6_keys_differ_in_either_half_of_an_address(string address, string other)
    {
        var key = ConnectionKey.Of(Header(3, address, 40001, "fd00:ffff::9", 8080), out _);
        var otherKey = ConnectionKey.Of(Header(3, other, 40001, "fd00:ffff::9", 8080), out _);

        Assert.NotEqual(key, otherKey);
        Assert.NotEqual(key.Low.Address, otherKey.Low.Address);
    }

    [Fact]
    public void Hashes_spread_over_dictionary_buckets_when_only_low_bits_differ()
    {
        // 50 clients with 200 ports each on two interfaces, as one node's veths see them: a dictionary keeps the low bits.
        var hashes = new List<int>();
        foreach (var ifIndex in new uint[] { 3, 4 })
        {
            for (var client = 1; client <= 50; client++)
            {
                for (var port = 40000; port < 40200; port++)
                {
                    hashes.Add(ConnectionKey.Of(Header(ifIndex, $"10.0.1.{client}", port, "10.0.0.2", 8080), out _).GetHashCode());
                }
            }
        }

        // Random hashes would use 98% of the buckets, 4 keys each on average, rarely more than 15 in one.
        const int Buckets = 4999; // a prime, as Dictionary sizes its buckets
        Assert.True(hashes.Distinct().Count() > hashes.Count * 0.999);
        var perBucket = hashes.GroupBy(h => (uint)h % Buckets).Select(g => g.Count()).ToList();
        Assert.True(perBucket.Count > Buckets * 0.95, $"{perBucket.Count} of {Buckets} buckets used");
        Assert.InRange(perBucket.Max(), 1, 20);
    }

    private static NetworkEndpoint Endpoint(string address, int port) => NetworkEndpoint.From(IPAddress.Parse(address), (ushort)port);

    private static SegmentHeader Header(uint ifIndex, string source, int sourcePort, string destination, int destinationPort)
    {
        var sourceAddress = IPAddress.Parse(source);
        var header = new SegmentHeader
        {
            IfIndex = ifIndex,
            Family = sourceAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? (byte)6 : (byte)4,
            SourcePort = (ushort)sourcePort,
            DestinationPort = (ushort)destinationPort,
        };
        sourceAddress.GetAddressBytes().CopyTo(header.SourceAddress);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(header.DestinationAddress);
        return header;
    }
}
