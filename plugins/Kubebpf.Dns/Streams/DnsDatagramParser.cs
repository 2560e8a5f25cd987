using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Dns.Streams;

/// <summary>DNS over UDP: one message per datagram.</summary>
internal sealed class DnsDatagramParser(DnsState state, IExchangeOutput output) : IDatagramParser
{
    private readonly DnsConversation _conversation = new(state, output, "udp", holdsExpansions: true);

    public void OnDatagram(in DatagramInfo datagram, ReadOnlySpan<byte> data) => _conversation.OnMessage(data, datagram.Length, datagram.TimestampNs);

    public bool OnTick(long nowNs) => _conversation.OnTick(nowNs);

    public void OnClose(long nowNs) => _conversation.OnClose(nowNs);
}
