using System.Text;
using Kubebpf.Sdk.Protocols;
using static RedisParser.Tests.Resp;

namespace RedisParser.Tests;

public sealed class RedisProtocolTests
{
    private static readonly RedisProtocol Protocol = new(new RedisOptions(), new RedisCounters(new TestMetrics()));

    [Fact]
    public void The_descriptor_names_redis_measurements_and_the_command_tag_and_bounds_operations()
    {
        var descriptor = Protocol.Descriptor;

        Assert.Equal(("redis", "redis_requests", "redis_red", "command"), (descriptor.Name, descriptor.CallLogMeasurement, descriptor.RedMeasurement, descriptor.OperationTag));
        Assert.Equal(["reply_type"], descriptor.DetailFields.Select(f => f.Key));
        Assert.Same("GET", descriptor.CanonicalOperation(new string("GET".ToCharArray())));
        Assert.Equal("OTHER", descriptor.CanonicalOperation("get user:alice"));
        Assert.Equal([(ushort)6379], Protocol.Match.Ports);
        Assert.Equal((true, 4096), (Protocol.Match.Sniff, Protocol.MaxBufferedBytes));
    }

    [Theory]
    [InlineData("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")]
    [InlineData("*1\r\n$4\r\nping\r\n")]
    [InlineData("*3\r\n$3\r\nset\r\n")]
    public void A_command_array_naming_a_known_command_is_a_client_on_any_port(string bytes) =>
        Assert.Equal(SniffResult.SenderIsClient, Sniff(bytes, from: 40000, to: 7000));

    [Fact]
    public void Every_prefix_of_a_command_asks_for_more_data()
    {
        var command = Command("GET", "k");
        var end = command.IndexOf("GET\r\n", StringComparison.Ordinal) + 5;
        for (var length = 0; length < end; length++)
        {
            Assert.True(Sniff(command[..length], from: 40000, to: 7000) == SniffResult.NeedMoreData, $"prefix of {length} bytes");
        }
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("+OK POP3 server ready\r\n")]
    [InlineData("*3\r\n$3\r\nFOO\r\n")] // not a command
    [InlineData("*0\r\n")]
    [InlineData("*2\r\n:1\r\n")]
    [InlineData("*2\r\n$3\r\nG T\r\n")]
    [InlineData("*123456789\r\n")]
    public void Other_protocols_on_other_ports_are_not_redis(string bytes) =>
        Assert.Equal(SniffResult.NotThisProtocol, Sniff(bytes, from: 40000, to: 110));

    [Theory]
    [InlineData("PING\r\n", 40000, 6379, SniffResult.SenderIsClient)]        // inline command
    [InlineData("*3\r\n$3\r\nFOO\r\n", 40000, 6379, SniffResult.SenderIsClient)]
    [InlineData("+OK\r\n", 6379, 40000, SniffResult.SenderIsServer)]       // a connection older than the capture
    [InlineData("$5\r\nhello\r\n", 6379, 40000, SniffResult.SenderIsServer)]
    [InlineData("\u0016\u0003\u0001", 40000, 6379, SniffResult.NotThisProtocol)] // TLS to the Redis port
    public void On_a_redis_port_either_side_is_recognised_by_its_first_byte(string bytes, int from, int to, SniffResult expected) =>
        Assert.Equal(expected, Sniff(bytes, (ushort)from, (ushort)to));

    [Fact]
    public void A_parser_is_made_per_connection_and_writes_to_the_output_it_is_given()
    {
        var output = new CollectingOutput();
        var parser = Protocol.CreateParser(output);
        parser.OnData(new StreamChunk(StreamSide.Client, 1, 1), Encoding.ASCII.GetBytes(Command("PING")));
        parser.OnData(new StreamChunk(StreamSide.Server, 2, 2), "+PONG\r\n"u8);

        Assert.Equal("PING", Assert.Single(output.Exchanges).Operation);
        Assert.NotSame(parser, Protocol.CreateParser(output));
    }

    private static SniffResult Sniff(string bytes, ushort from, ushort to) =>
        Protocol.Sniff(Encoding.Latin1.GetBytes(bytes), new SniffContext(from, to, SenderOpened: true));
}
