using Kubebpf.Http.Parsing;
using Kubebpf.Http.Streams;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Http;

/// <summary>
/// HTTP/1.x on TCP: recognises a connection by its first request or status line and parses each one with an
/// <see cref="HttpStreamParser"/>. The counters and the string interner are shared by all its connections (they all
/// run on the capture thread).
/// </summary>
internal sealed class HttpProtocol : IStreamProtocol
{
    public HttpProtocol(HttpOptions options, IAgentMetrics metrics)
    {
        Options = options;
        Counters = new HttpCounters(metrics);
        Interner = new StringInterner(options.MaxInternedStrings);
        Match = new ProtocolMatch(options.Ports, options.Sniff);
    }

    public ProtocolDescriptor Descriptor => HttpProtocolDescriptor.Instance;

    public ProtocolMatch Match { get; }

    /// <summary>An incomplete head is all the parser leaves unconsumed: the capture keeps up to a whole head.</summary>
    public int MaxBufferedBytes => Options.MaxHeadBytes;

    public HttpOptions Options { get; }

    public HttpCounters Counters { get; }

    public StringInterner Interner { get; }

    public SniffResult Sniff(ReadOnlySpan<byte> data, in SniffContext context) => HttpSniffer.Sniff(data, Options.MaxHeadBytes);

    public IStreamParser CreateParser(IExchangeOutput output) => new HttpStreamParser(this, output);
}
