using System.Text;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;

namespace Kubebpf.MySql.Tests;

public class MySqlSniffTests
{
    private static readonly MySqlProtocol Protocol = new(new MySqlOptions(), new TestAgentMetrics());

    [Fact]
    public void A_server_greeting_on_any_port_makes_the_sender_the_server()
    {
        var greeting = Packets.Greeting(Packets.Basic);
        Assert.Equal(SniffResult.SenderIsServer, Sniff(greeting, senderPort: 4000, receiverPort: 51000));
        Assert.Equal(SniffResult.NeedMoreData, Sniff(greeting[..20], senderPort: 4000, receiverPort: 51000));
    }

    [Fact]
    public void A_command_counts_only_on_a_mysql_port()
    {
        var query = Packets.Query("SELECT 1");
        Assert.Equal(SniffResult.SenderIsClient, Sniff(query, senderPort: 51000, receiverPort: 3306));
        Assert.Equal(SniffResult.SenderIsClient, Sniff([.. query, .. Packets.Command(0x0E)], senderPort: 51000, receiverPort: 3306));
        Assert.Equal(SniffResult.NotThisProtocol, Sniff(query, senderPort: 51000, receiverPort: 8080));
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: db\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("+OK\r\n")]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n")]
    public void Other_protocols_on_port_3306_are_not_mysql(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        Assert.Equal(SniffResult.NotThisProtocol, Sniff(bytes, senderPort: 51000, receiverPort: 3306));
        Assert.Equal(SniffResult.NotThisProtocol, Sniff(bytes, senderPort: 3306, receiverPort: 51000));
    }

    [Fact]
    public void A_tls_client_hello_on_port_3306_is_not_mysql()
    {
        byte[] hello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03];
        Assert.Equal(SniffResult.NotThisProtocol, Sniff(hello, senderPort: 51000, receiverPort: 3306));
    }

    private static SniffResult Sniff(byte[] data, ushort senderPort, ushort receiverPort) =>
        Protocol.Sniff(data, new SniffContext(senderPort, receiverPort, SenderOpened: null));
}
