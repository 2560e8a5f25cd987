using Kubebpf.Http.Parsing;
using Kubebpf.Http.Privacy;
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
    /// <summary>Closed parsers kept for later connections: enough for a burst of short connections, bounded in memory.</summary>
    internal const int MaxSpareParsers = 256;

    /// <summary>
    /// Where a message can start: a status line, a request line of a standard (RFC 9110) or WebDAV (RFC 4918) method or
    /// of QUERY, or the empty lines a request may follow. A segment that starts otherwise lies inside a body, and the
    /// capture copies only its ends; a request with another method is still seen when its head fits in the first
    /// 4 KiB of its segment.
    /// </summary>
    internal static readonly ReadOnlyMemory<byte>[] Starts =
    [
        "HTTP/"u8.ToArray(), "GET "u8.ToArray(), "HEAD "u8.ToArray(), "POST "u8.ToArray(), "PUT "u8.ToArray(),
        "DELETE "u8.ToArray(), "CONNECT "u8.ToArray(), "OPTIONS "u8.ToArray(), "TRACE "u8.ToArray(), "PATCH "u8.ToArray(),
        "PROPFIND"u8.ToArray(), "PROPPATCH"u8.ToArray(), "MKCOL "u8.ToArray(), "COPY "u8.ToArray(), "MOVE "u8.ToArray(),
        "LOCK "u8.ToArray(), "UNLOCK "u8.ToArray(), "QUERY "u8.ToArray(), "\r\n"u8.ToArray(), "\n"u8.ToArray(),
    ];

    public HttpProtocol(HttpOptions options, IAgentMetrics metrics)
    {
        Options = options;
        Counters = new HttpCounters(metrics);
        Interner = new StringInterner(options.MaxInternedStrings);
        Redactor = new TargetRedactor(options);
        Match = new ProtocolMatch(options.Ports, options.Sniff);
    }

    public ProtocolDescriptor Descriptor => HttpProtocolDescriptor.Instance;

    public ProtocolMatch Match { get; }

    /// <summary>An incomplete head is all the parser leaves unconsumed: the capture keeps up to a whole head.</summary>
    public int MaxBufferedBytes => Options.MaxHeadBytes;

    public IReadOnlyList<ReadOnlyMemory<byte>> MessageStarts => Starts;

    public HttpOptions Options { get; }

    public HttpCounters Counters { get; }

    public StringInterner Interner { get; }

    /// <summary>Masks secrets in request targets and Host values before an exchange holds them.</summary>
    public TargetRedactor Redactor { get; }

    public SniffResult Sniff(ReadOnlySpan<byte> data, in SniffContext context) => HttpSniffer.Sniff(data, Options.MaxHeadBytes);

    /// <summary>Parsers closed since, ready for new connections (capture thread only, like the interner).</summary>
    private readonly Stack<HttpStreamParser> _spare = new();

    public IStreamParser CreateParser(IExchangeOutput output)
    {
        if (_spare.TryPop(out var parser))
        {
            parser.Reuse(output);
            return parser;
        }

        return new HttpStreamParser(this, output);
    }

    /// <summary>Takes back a closed parser (its connection is over: the capture calls nothing after a close).</summary>
    internal void Return(HttpStreamParser parser)
    {
        if (_spare.Count < MaxSpareParsers)
        {
            _spare.Push(parser);
        }
    }
}
