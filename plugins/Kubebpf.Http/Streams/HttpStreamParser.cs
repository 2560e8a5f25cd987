using System.Text;
using Kubebpf.Http.Parsing;
using Kubebpf.Http.Privacy;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Http.Streams;

/// <summary>
/// Pairs the HTTP/1.x requests of one connection with their responses, in order (keep-alive and pipelining), from
/// the byte streams the capture reassembled. Only heads are parsed; bodies are consumed as they arrive and counted
/// by arithmetic (Content-Length, chunked, until close). An incomplete head is left unconsumed for the capture to
/// offer again. Every loss is counted; bad input never throws.
/// </summary>
/// <remarks>
/// Closed, a parser goes back to its <see cref="HttpProtocol"/>, which hands it to a later connection
/// (<see cref="Reuse"/>): a stream of short connections then allocates no parser, and the strings it keeps of its
/// latest request (path, Host, details), which the next connection's requests mostly repeat, are reused too.
/// </remarks>
internal sealed class HttpStreamParser : IStreamParser
{
    private const int StatusSwitchingProtocols = 101;

    private readonly HttpProtocol _protocol;
    private readonly HttpCounters _counters;
    private readonly RequestQueue _requests;
    private IExchangeOutput _output;
    private HalfStream _client;
    private HalfStream _server;
    private long _nextRequestId;

    /// <summary>When the latest request started (see <see cref="OnRequest"/>); <see cref="long.MinValue"/> before the first.</summary>
    private long _lastRequestStartNs = long.MinValue;

    /// <summary>
    /// The latest path (as sent) and Host value of this connection's requests: a keep-alive connection mostly repeats
    /// them, and reusing the string saves decoding, redacting and allocating it.
    /// </summary>
    private string? _recentPath;

    /// <summary><see cref="_recentPath"/> with its secrets masked (the same string when it holds none).</summary>
    private string? _recentRedactedPath;

    /// <inheritdoc cref="_recentPath"/>
    private string? _recentHost;

    /// <summary>The details of the latest exchange: reused while version, Host and query repeat.</summary>
    private HttpDetails? _recentDetails;

    /// <summary>The request line of a head still in <see cref="StreamState.InHead"/> on the client side.</summary>
    private PendingRequest _partialRequest;

    /// <summary>The status code of a head still in <see cref="StreamState.InHead"/> on the server side.</summary>
    private int _partialStatus;

    /// <summary>A response whose body is being read: the exchange is emitted when the body ends.</summary>
    private bool _hasOpenExchange;
    private PendingRequest _openRequest;
    private int _openStatus;
    private long _openResponseStartNs;

    /// <summary>Body size of the open exchange's response, once known; -1 until then.</summary>
    private long _responseBodyBytes = -1;

    /// <summary>Closed and back with its protocol, until <see cref="Reuse"/>: a second close must not return it twice.</summary>
    private bool _returned;

    public HttpStreamParser(HttpProtocol protocol, IExchangeOutput output)
    {
        _protocol = protocol;
        _counters = protocol.Counters;
        _output = output;
        _requests = new RequestQueue(protocol.Options.MaxPipelinedRequests);
    }

    /// <summary>
    /// Starts a new connection: forgets everything of the one before but the strings of its latest request, which are
    /// only reused when a new request repeats them.
    /// </summary>
    internal void Reuse(IExchangeOutput output)
    {
        _output = output;
        _requests.Clear();
        _client = default;
        _server = default;
        _nextRequestId = 0;
        _lastRequestStartNs = long.MinValue;
        _partialRequest = default;
        _partialStatus = 0;
        _hasOpenExchange = false;
        _openRequest = default;
        _openStatus = 0;
        _openResponseStartNs = 0;
        _responseBodyBytes = -1;
        _returned = false;
    }

    /// <summary>Requests wait for their responses, or a response's body is still being read.</summary>
    private bool AwaitsResponse => _requests.Count > 0 || _hasOpenExchange;

    public int OnData(in StreamChunk chunk, ReadOnlySpan<byte> data)
    {
        var side = chunk.Side;
        ref var half = ref Half(side);
        var kept = half.Kept;
        half.Kept = 0;
        var offset = 0;
        while (offset < data.Length)
        {
            switch (half.State)
            {
                case StreamState.AwaitingHead or StreamState.InHead:
                    if (!ReadHead(chunk, data, kept, ref offset))
                    {
                        half.Kept = data.Length - offset;
                        return offset;
                    }

                    break;
                case StreamState.InBody:
                    var taken = (int)Math.Min(half.BodyRemaining, data.Length - offset);
                    offset += taken;
                    half.BodyRemaining -= taken;
                    if (half.BodyRemaining == 0)
                    {
                        EndMessage(side);
                    }

                    break;
                case StreamState.InChunkedBody:
                    var chunks = half.Chunks.Read(data, ref offset);
                    if (chunks == ChunkedBodyStatus.Lost)
                    {
                        LoseStream(side, _counters.Desyncs);
                        return data.Length;
                    }

                    if (chunks == ChunkedBodyStatus.Done)
                    {
                        EndMessage(side);
                    }

                    break;
                case StreamState.UntilClose:
                    half.UntilCloseBytes += data.Length - offset;
                    return data.Length;
                case StreamState.Desynced:
                    var resumeAt = Resynchronise(side, data, offset, kept, out var wait);
                    if (wait)
                    {
                        half.Kept = data.Length - resumeAt;
                        return resumeAt;
                    }

                    if (resumeAt == data.Length)
                    {
                        return data.Length;
                    }

                    half.State = StreamState.AwaitingHead;
                    offset = resumeAt;
                    break;
                default:
                    return data.Length; // tunnel data
            }
        }

        return data.Length;
    }

    public void OnGap(StreamSide side, long bytes, long timestampNs)
    {
        ref var half = ref Half(side);
        half.Kept = 0;
        while (bytes > 0)
        {
            switch (half.State)
            {
                case StreamState.InBody:
                    var skipped = Math.Min(half.BodyRemaining, bytes);
                    half.BodyRemaining -= skipped;
                    bytes -= skipped;
                    if (half.BodyRemaining == 0)
                    {
                        EndMessage(side);
                    }

                    break;
                case StreamState.InChunkedBody:
                    if (!half.Chunks.Skip(bytes))
                    {
                        LoseStream(side, _counters.Desyncs);
                    }

                    return;
                case StreamState.UntilClose:
                    half.UntilCloseBytes += bytes;
                    return;
                case StreamState.AwaitingHead or StreamState.InHead:
                    LoseHeadToGap(side);
                    return;
                default:
                    return;
            }
        }
    }

    public bool OnFin(StreamSide side, long timestampNs) =>
        // A FIN closes one direction only: a client that sent its last requests and closed still gets the answers.
        side == StreamSide.Client && AwaitsResponse;

    public void OnClose(long timestampNs)
    {
        if (_server.State == StreamState.UntilClose)
        {
            _responseBodyBytes = _server.UntilCloseBytes;
        }

        EmitOpenExchange();
        DropPendingRequests();
        if (!_returned)
        {
            _returned = true;
            _protocol.Return(this);
        }
    }

    private ref HalfStream Half(StreamSide side) => ref side == StreamSide.Client ? ref _client : ref _server;

    /// <summary>
    /// A lost stream resumes at a start line where captured bytes start a segment: at the start of the data (from
    /// <paramref name="offset"/> 0), or where the newest bytes start, after the <paramref name="kept"/> ones. Returns
    /// where it resumes, or <c>data.Length</c> to skip the rest; <paramref name="wait"/>: the bytes from there may
    /// begin a start line that has not ended yet, to be kept and offered again.
    /// </summary>
    private int Resynchronise(StreamSide side, ReadOnlySpan<byte> data, int offset, int kept, out bool wait)
    {
        wait = false;
        // Bytes were kept only when they could begin a standard start line: joined with the newest ones, anything
        // else ("x" + "GET /a ...") is not the start line it seems, and the newest segment's start is tried instead.
        if (offset == 0 && IsStartLine(side, data, standardOnly: kept > 0, out wait))
        {
            return 0;
        }

        return kept >= offset && kept > 0 && kept < data.Length && IsStartLine(side, data[kept..], standardOnly: false, out wait)
            ? kept
            : data.Length;
    }

    /// <summary>
    /// Whether <paramref name="data"/> starts (after empty lines) with a start line, or <paramref name="possibly"/>
    /// with the start of one that has not ended yet (a request line only when its method is a standard one).
    /// </summary>
    private bool IsStartLine(StreamSide side, ReadOnlySpan<byte> data, bool standardOnly, out bool possibly)
    {
        data = data[HttpHeadParser.SkipEmptyLines(data, out _)..];
        var maxHeadBytes = _protocol.Options.MaxHeadBytes;
        if (side == StreamSide.Server)
        {
            var response = HttpHeadParser.ParseResponse(data, maxHeadBytes);
            possibly = !response.HasStartLine && response.Status == HeadParseStatus.Incomplete && !data.IsEmpty;
            return response.HasStartLine || possibly;
        }

        var request = HttpHeadParser.ParseRequest(data, maxHeadBytes);
        possibly = !request.HasStartLine && request.Status == HeadParseStatus.Incomplete && !data.IsEmpty
            && HttpStrings.StartsWithStandardMethod(data);
        return (request.HasStartLine && (!standardOnly || HttpStrings.IsStandardMethod(request.Method))) || possibly;
    }

    /// <summary>
    /// Reads the head at <paramref name="offset"/> (after empty lines) and moves <paramref name="offset"/> past what it
    /// consumed. False when the head is incomplete: <paramref name="offset"/> is then where it starts, to be kept.
    /// </summary>
    private bool ReadHead(in StreamChunk chunk, ReadOnlySpan<byte> data, int kept, ref int offset)
    {
        ref var half = ref Half(chunk.Side);
        if (half.State == StreamState.AwaitingHead)
        {
            offset += HttpHeadParser.SkipEmptyLines(data[offset..], out var endsInCarriageReturn);
            if (offset == data.Length || endsInCarriageReturn)
            {
                return offset == data.Length;
            }

            // Kept bytes arrived with the chunk's first byte, the others with its newest segment.
            half.MessageStartNs = offset < Math.Max(kept, 1) ? chunk.FirstByteNs : chunk.TimestampNs;
        }

        return chunk.Side == StreamSide.Client ? ReadRequestHead(data, ref offset) : ReadResponseHead(data, ref offset);
    }

    private bool ReadRequestHead(ReadOnlySpan<byte> data, ref int offset)
    {
        var head = HttpHeadParser.ParseRequest(data[offset..], _protocol.Options.MaxHeadBytes);
        switch (head.Status)
        {
            case HeadParseStatus.Complete:
                offset += head.Length;
                _client.ResetMessage(StreamState.AwaitingHead);
                OnRequest(Describe(head), framed: true, head.Fields);
                return true;
            case HeadParseStatus.Incomplete:
                _client.State = StreamState.InHead;
                _client.HeadHasStartLine = head.HasStartLine;
                if (head.HasStartLine)
                {
                    _partialRequest = Describe(head);
                }

                return false;
            default:
                if (head.HasStartLine)
                {
                    // The head cannot be read, but its request line is known: its response can still be paired.
                    OnRequest(Describe(head), framed: false, head.Fields);
                }

                LoseHead(StreamSide.Client, head.Status);
                offset++; // resynchronise past this head's start
                return true;
        }
    }

    private bool ReadResponseHead(ReadOnlySpan<byte> data, ref int offset)
    {
        var head = HttpHeadParser.ParseResponse(data[offset..], _protocol.Options.MaxHeadBytes);
        switch (head.Status)
        {
            case HeadParseStatus.Complete:
                offset += head.Length;
                _server.ResetMessage(StreamState.AwaitingHead);
                OnResponse(head.StatusCode, framed: true, head.Fields);
                return true;
            case HeadParseStatus.Incomplete:
                _server.State = StreamState.InHead;
                _server.HeadHasStartLine = head.HasStartLine;
                _partialStatus = head.StatusCode;
                return false;
            default:
                if (head.HasStartLine)
                {
                    OnResponse(head.StatusCode, framed: false, head.Fields);
                }

                LoseHead(StreamSide.Server, head.Status);
                offset++;
                return true;
        }
    }

    /// <summary>Bytes never seen where a head was or should start: pair the start line if it was read, then resynchronise.</summary>
    private void LoseHeadToGap(StreamSide side)
    {
        ref var half = ref Half(side);
        if (half is { State: StreamState.InHead, HeadHasStartLine: true })
        {
            if (side == StreamSide.Client)
            {
                OnRequest(_partialRequest, framed: false, default);
            }
            else
            {
                OnResponse(_partialStatus, framed: false, default);
            }
        }

        LoseStream(side, _counters.Desyncs);
    }

    private void LoseHead(StreamSide side, HeadParseStatus status) =>
        LoseStream(side, status switch
        {
            HeadParseStatus.Oversized => _counters.OversizedHeads,
            HeadParseStatus.Invalid => _counters.InvalidHeads,
            _ => _counters.Desyncs,
        });

    /// <summary>The stream's position is lost: wait for a start line. On the server side, pairing is lost too.</summary>
    private void LoseStream(StreamSide side, Counter reason)
    {
        reason.Increment();
        Half(side).ResetMessage(StreamState.Desynced);
        if (side == StreamSide.Server)
        {
            EmitOpenExchange();
            DropPendingRequests();
        }
    }

    private void DropPendingRequests()
    {
        _counters.UnansweredRequests.Add(_requests.Count);
        _requests.Clear();
    }

    /// <summary>What an exchange needs of a request line and its Host header.</summary>
    private PendingRequest Describe(scoped in RequestHead head)
    {
        var method = HttpStrings.Method(head.Method, _protocol.Interner);
        return new PendingRequest
        {
            Method = method,
            Path = RedactedPath(head.Target, out var query),
            Query = query,
            Version = HttpStrings.Version(head.Version),
            Host = head.Fields.Host.IsEmpty ? null : InternHost(head.Fields.Host),
            IsHead = method == "HEAD",
            IsConnect = method == "CONNECT",
        };
    }

    private string RedactedPath(ReadOnlySpan<byte> target, out string? query)
    {
        var recent = _recentPath;
        var path = HttpStrings.Path(target, _protocol.Options.RecordQueryStrings, ref _recentPath, out query);
        if (!ReferenceEquals(path, recent) || _recentRedactedPath is null)
        {
            _recentRedactedPath = _protocol.Redactor.Redact(path);
        }

        return _recentRedactedPath;
    }

    // A connection mostly repeats its Host: comparing with the latest one is cheaper than a lookup in the interner.
    // A Host value cannot hold userinfo (RFC 9110 7.2); one that does has it masked.
    private string InternHost(ReadOnlySpan<byte> host)
    {
        if (_recentHost is { } recent && Ascii.Equals(host, recent))
        {
            return recent;
        }

        var at = host.LastIndexOf((byte)'@');
        return at < 0 ? _recentHost = _protocol.Interner.Intern(host) : TargetRedactor.Mask + _protocol.Interner.Intern(host[at..]);
    }

    /// <summary>Queues a request for its response and frames its body (RFC 9112 6.3); unframed, its body is unknown.</summary>
    private void OnRequest(PendingRequest request, bool framed, in HeadFields fields)
    {
        // Pipelined requests read from one segment share its timestamp, and a time-series store keeps one point per
        // series and timestamp: each request of a connection starts at least 1 ns after the one before.
        _lastRequestStartNs = Math.Max(_client.MessageStartNs, _lastRequestStartNs + 1);
        request.Id = ++_nextRequestId;
        request.StartNs = _lastRequestStartNs;
        // A CONNECT request has no content (RFC 9110 9.3.6): what follows its head is tunnel data, whatever it declares.
        request.BodyBytes = request.IsConnect ? 0 : !framed || fields.Chunked ? -1 : Math.Max(fields.ContentLength, 0);
        if (!_requests.TryEnqueue(request))
        {
            _counters.PipelineOverflow.Increment();
        }

        if (!framed)
        {
            return;
        }

        if (request.IsConnect)
        {
            _client.State = StreamState.Tunnel;
        }
        else if (fields.Chunked)
        {
            _client.State = StreamState.InChunkedBody;
            _client.BodyOwnerId = request.Id;
        }
        else if (fields.ContentLength > 0)
        {
            _client.State = StreamState.InBody;
            _client.BodyRemaining = fields.ContentLength;
        }
    }

    /// <summary>Pairs a final response with the oldest pending request and frames its body.</summary>
    private void OnResponse(int status, bool framed, in HeadFields fields)
    {
        if (status < 200 && status != StatusSwitchingProtocols)
        {
            return; // interim (100 Continue, 103 Early Hints): the final response follows
        }

        // No exchange is open here: every path that opens one emits it before the server side reads another head.
        if (!_requests.TryDequeue(out _openRequest))
        {
            _counters.UnmatchedResponses.Increment();
            if (status == StatusSwitchingProtocols && framed)
            {
                BecomeTunnel();
            }
            else if (framed)
            {
                FrameResponseBody(fields, hasNoBody: false);
            }

            return;
        }

        _hasOpenExchange = true;
        _openStatus = status;
        _openResponseStartNs = _server.MessageStartNs;
        _responseBodyBytes = -1;
        if (!framed)
        {
            return;
        }

        if (status == StatusSwitchingProtocols || (_openRequest.IsConnect && status < 300))
        {
            _responseBodyBytes = 0;
            EmitOpenExchange();
            BecomeTunnel();
            return;
        }

        if (_openRequest.IsConnect && _client.State == StreamState.Tunnel)
        {
            // Refused: the client may send requests again. Bytes it sent hoping for a tunnel are skipped uncounted.
            _client.ResetMessage(StreamState.Desynced);
        }

        FrameResponseBody(fields, hasNoBody: _openRequest.IsHead || status is 204 or 304);
    }

    /// <summary>After 101 Switching Protocols or a 2xx to CONNECT both directions carry another protocol.</summary>
    private void BecomeTunnel()
    {
        _counters.Tunnels.Increment();
        _client.ResetMessage(StreamState.Tunnel);
        _server.ResetMessage(StreamState.Tunnel);
    }

    /// <summary>RFC 9112 6.3 message body length of a response.</summary>
    private void FrameResponseBody(in HeadFields fields, bool hasNoBody)
    {
        if (hasNoBody || (!fields.Chunked && fields.ContentLength == 0))
        {
            _responseBodyBytes = 0;
            EndMessage(StreamSide.Server);
        }
        else if (fields.Chunked)
        {
            _server.State = StreamState.InChunkedBody;
        }
        else if (fields.ContentLength > 0)
        {
            _responseBodyBytes = fields.ContentLength;
            _server.State = StreamState.InBody;
            _server.BodyRemaining = fields.ContentLength;
        }
        else
        {
            _server.State = StreamState.UntilClose;
        }
    }

    /// <summary>A message ended: emit the exchange when it was a response.</summary>
    private void EndMessage(StreamSide side)
    {
        ref var half = ref Half(side);
        if (side == StreamSide.Client)
        {
            if (half.State == StreamState.InChunkedBody)
            {
                _requests.SetBodyBytesOfNewest(half.BodyOwnerId, half.Chunks.BodyBytes);
            }

            half.ResetMessage(StreamState.AwaitingHead);
            return;
        }

        if (half.State == StreamState.InChunkedBody)
        {
            _responseBodyBytes = half.Chunks.BodyBytes;
        }

        half.ResetMessage(StreamState.AwaitingHead);
        EmitOpenExchange();
    }

    private void EmitOpenExchange()
    {
        if (!_hasOpenExchange)
        {
            return;
        }

        ref readonly var request = ref _openRequest;
        var status = _openStatus;
        _output.Emit(new ParsedExchange
        {
            Operation = request.Method,
            Resource = request.Path,
            Code = status,
            Status = StatusClass(status),
            Outcome = status switch
            {
                >= 500 and <= 599 => ExchangeOutcome.Error,
                >= 400 and <= 499 => ExchangeOutcome.ClientError,
                _ => ExchangeOutcome.Success,
            },
            StartNs = request.StartNs,
            DurationNs = _openResponseStartNs - request.StartNs,
            RequestBytes = request.BodyBytes,
            ResponseBytes = _responseBodyBytes,
            Details = Details(request),
        });
        _hasOpenExchange = false;
        _openRequest = default;
        _responseBodyBytes = -1;
        _counters.Exchanges.Increment();
    }

    private HttpDetails Details(in PendingRequest request) =>
        _recentDetails is { } recent
        && ReferenceEquals(recent.Version, request.Version) && recent.Host == request.Host && recent.Query == request.Query
            ? recent
            : _recentDetails = new HttpDetails(request.Version, request.Host, request.Query);

    /// <summary>The <c>status_class</c> of a status code.</summary>
    internal static string StatusClass(int status) => status switch
    {
        >= 100 and <= 199 => "1xx",
        >= 200 and <= 299 => "2xx",
        >= 300 and <= 399 => "3xx",
        >= 400 and <= 499 => "4xx",
        >= 500 and <= 599 => "5xx",
        _ => "other",
    };
}
