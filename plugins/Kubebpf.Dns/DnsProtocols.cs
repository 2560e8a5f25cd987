using Kubebpf.Dns.Parsing;
using Kubebpf.Dns.Streams;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Dns;

/// <summary>DNS over UDP: a parser per client/server pair.</summary>
internal sealed class DnsDatagramProtocol(DnsState state) : IDatagramProtocol
{
    public ProtocolDescriptor Descriptor => DnsProtocolDescriptor.Instance;

    public ProtocolMatch Match => state.Match;

    public SniffResult Sniff(ReadOnlySpan<byte> data, in SniffContext context) => DnsSniffer.Sniff(data, context, state.Match);

    public IDatagramParser CreateParser(IExchangeOutput output) => new DnsDatagramParser(state, output);
}

/// <summary>DNS over TCP: a parser per connection.</summary>
internal sealed class DnsStreamProtocol(DnsState state) : IStreamProtocol
{
    public ProtocolDescriptor Descriptor => DnsProtocolDescriptor.Instance;

    public ProtocolMatch Match => state.Match;

    /// <summary>A whole message waits in the capture until its last byte comes.</summary>
    public int MaxBufferedBytes => DnsStreamParser.MaxFrameBytes;

    /// <summary>
    /// None: a message starts with its binary length, so no prefix marks it. Answers larger than the capture's whole-copy
    /// threshold (zone transfers) reach the parser with a gap and are counted there, as for any binary segment.
    /// </summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> MessageStarts => [];

    public SniffResult Sniff(ReadOnlySpan<byte> data, in SniffContext context) =>
        data.Length < 2 ? SniffResult.NeedMoreData : DnsSniffer.Sniff(data[2..], context, state.Match);

    public IStreamParser CreateParser(IExchangeOutput output) => new DnsStreamParser(state, output);
}
