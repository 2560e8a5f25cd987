using System.Text;
using Kubebpf.Http.Capture;
using Kubebpf.Http.Parsing;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Http.Tracking;

/// <summary>
/// Pairs HTTP/1.x requests with their responses from captured TCP segments, per connection and in order, following
/// each direction by sequence number: bodies are skipped by arithmetic, only heads are read, and only a head split
/// across segments is copied (into a pooled buffer). Every loss is counted; bad input never throws.
/// </summary>
/// <remarks>
/// Not thread-safe: one capture thread calls <see cref="OnSegment"/> and <see cref="EvictIdle"/>. Only the
/// <c>tracked_connections</c> gauge is read from other threads.
/// </remarks>
internal sealed class HttpConnectionTracker
{
    private const int StopSegment = -1;
    private const int ConnectionRemoved = -2;
    private const int StatusSwitchingProtocols = 101;

    private readonly HttpTrackerOptions _options;
    private readonly HttpTrackerCounters _counters;
    private readonly ConnectionTable _table;
    private readonly StringInterner _interner;
    private readonly IExchangeNamer? _namer;

    /// <summary>Creates a tracker; without <paramref name="namer"/>, exchanges have no interface and no workloads.</summary>
    public HttpConnectionTracker(HttpTrackerOptions options, IAgentMetrics metrics, long monotonicToUnixOffsetNs, IExchangeNamer? namer = null)
    {
        _options = options;
        _namer = namer;
        _counters = new HttpTrackerCounters(metrics);
        _table = new ConnectionTable(options.MaxPipelinedRequests);
        _interner = new StringInterner(options.MaxInternedStrings);
        MonotonicToUnixOffsetNs = monotonicToUnixOffsetNs;
        metrics.Gauge("tracked_connections", "connections being tracked", () => _table.Count);
    }

    /// <summary>Added to CLOCK_MONOTONIC timestamps to make Unix times; the owner may refresh it as the clocks drift.</summary>
    public long MonotonicToUnixOffsetNs { get; set; }

    public int TrackedConnections => _table.Count;

    /// <summary>
    /// Follows one captured segment. <paramref name="payload"/> holds the captured bytes (at most
    /// <see cref="SegmentHeader.PayloadLength"/>); <paramref name="towardsEndpoint"/> says the segment travels towards the
    /// observed workload. Exchanges completed by this segment (or by evicting a connection to make room) are appended
    /// to <paramref name="completed"/>, named by the namer as they complete.
    /// </summary>
    public void OnSegment(in SegmentHeader header, ReadOnlySpan<byte> payload, bool towardsEndpoint, List<HttpExchange> completed)
    {
        var length = (int)Math.Min(header.PayloadLength, int.MaxValue);
        var captured = payload.Length > length ? payload[..length] : payload;
        var key = ConnectionKey.Of(header, out var fromLow);
        var nowNs = (long)header.TimestampNs;
        if (!_table.TryGet(key, out var connection))
        {
            if (length == 0)
            {
                return;
            }

            connection = AddConnection(key, nowNs, completed);
        }
        else
        {
            _table.Touch(connection, nowNs);
        }

        var segment = new SegmentContext(nowNs, towardsEndpoint, completed);
        if (length > 0 && !Receive(connection, fromLow ? 0 : 1, header.Seq, captured, length, segment))
        {
            return;
        }

        if ((header.TcpFlags & SegmentHeader.Rst) != 0)
        {
            EndConnection(connection, completed);
        }
        else if ((header.TcpFlags & SegmentHeader.Fin) != 0)
        {
            // A FIN closes one direction only: a client that sent its last requests and closed still gets the answers.
            if ((fromLow ? 0 : 1) == connection.ClientSide && connection.AwaitsResponse)
            {
                connection.ClientFinished = true;
            }
            else
            {
                EndConnection(connection, completed);
            }
        }
    }

    /// <summary>Drops connections without segments for <see cref="HttpTrackerOptions.IdleTimeout"/>; returns how many.</summary>
    public int EvictIdle(long nowMonotonicNs, List<HttpExchange> completed)
    {
        var idleNs = (long)_options.IdleTimeout.TotalNanoseconds;
        var evicted = 0;
        while (_table.Oldest is { } oldest && nowMonotonicNs - oldest.LastSeenNs >= idleNs)
        {
            Evict(oldest, completed);
            evicted++;
        }

        return evicted;
    }

    private Connection AddConnection(in ConnectionKey key, long nowNs, List<HttpExchange> completed)
    {
        if (_table.Count >= _options.MaxConnections && _table.Oldest is { } leastRecent)
        {
            Evict(leastRecent, completed);
        }

        return _table.Add(key, nowNs);
    }

    private void Evict(Connection connection, List<HttpExchange> completed)
    {
        _counters.EvictedConnections.Increment();
        RemoveConnection(connection, completed);
    }

    /// <summary>Applies sequence arithmetic, then hands the new bytes to the stream. False when the connection is gone.</summary>
    private bool Receive(Connection connection, int side, uint seq, ReadOnlySpan<byte> captured, int length, in SegmentContext segment)
    {
        if (connection.IsNonHttp)
        {
            if (!HttpHeadParser.ParseRequest(captured, _options.MaxHeadBytes).HasStartLine)
            {
                return true;
            }

            connection.BecomeHttp(clientSide: side);
        }

        var half = connection.Half(side);
        if (half.HasSequence)
        {
            var ahead = (long)(int)(seq - half.NextSequence);
            if (ahead < 0)
            {
                _counters.Retransmissions.Increment();
                var seen = (int)-ahead;
                if (seen >= length)
                {
                    return true;
                }

                // Retransmitted with new bytes after the old ones (re-segmentation): keep only the new ones.
                captured = seen < captured.Length ? captured[seen..] : [];
                seq += (uint)seen;
                length -= seen;
            }
            else if (ahead > 0 && !Process(connection, side, [], (int)ahead, segment))
            {
                // Lost bytes are processed as uncaptured: harmless inside a body, a desync where a head should be.
                return false;
            }
        }

        half.HasSequence = true;
        half.NextSequence = seq + (uint)length;
        return Process(connection, side, captured, length, segment);
    }

    /// <summary>Reads <paramref name="length"/> stream bytes, the first <c>captured.Length</c> of them present.</summary>
    private bool Process(Connection connection, int side, ReadOnlySpan<byte> captured, int length, in SegmentContext segment)
    {
        var half = connection.Half(side);
        var offset = 0;
        while (offset < length)
        {
            switch (half.State)
            {
                case StreamState.AwaitingHead or StreamState.InHead or StreamState.Desynced:
                    var consumed = ReadHead(connection, side, captured, offset, length, segment);
                    if (consumed < 0)
                    {
                        return consumed != ConnectionRemoved;
                    }

                    offset += consumed;
                    break;
                case StreamState.InBody:
                    var skipped = (int)Math.Min(half.BodyRemaining, length - offset);
                    offset += skipped;
                    half.BodyRemaining -= skipped;
                    if (half.BodyRemaining == 0 && !EndMessage(connection, side, segment))
                    {
                        return false;
                    }

                    break;
                case StreamState.InChunkedBody:
                    var chunks = half.Chunks.Read(captured, length, ref offset);
                    if (chunks == ChunkedBodyStatus.Lost)
                    {
                        LoseStream(connection, side, _counters.Desyncs, segment);
                        return true;
                    }

                    if (chunks == ChunkedBodyStatus.Done && !EndMessage(connection, side, segment))
                    {
                        return false;
                    }

                    break;
                case StreamState.UntilClose:
                    half.UntilCloseBytes += length - offset;
                    return true;
                default:
                    return true;
            }
        }

        return true;
    }

    /// <summary>Returns the bytes of the head consumed from <paramref name="offset"/>, or a negative stop code.</summary>
    private int ReadHead(Connection connection, int side, ReadOnlySpan<byte> captured, int offset, int length, in SegmentContext segment)
    {
        var half = connection.Half(side);
        if (offset >= captured.Length)
        {
            return half.State == StreamState.Desynced ? StopSegment : LoseStream(connection, side, _counters.Desyncs, segment);
        }

        var data = captured[offset..];
        if (half.State == StreamState.Desynced)
        {
            if (!StartsWithStartLine(connection, side, data))
            {
                return StopSegment;
            }

            half.State = StreamState.AwaitingHead;
        }

        if (half.State == StreamState.AwaitingHead)
        {
            half.MessageStartNs = segment.TimestampNs;
            if (connection.ClientSide == Connection.UnknownSide && !DecideRoles(connection, side, data))
            {
                return StopSegment;
            }
        }

        var reachesSegmentEnd = captured.Length == length;
        return side == connection.ClientSide
            ? ReadRequestHead(connection, side, data, reachesSegmentEnd, segment)
            : ReadResponseHead(connection, side, data, reachesSegmentEnd, segment);
    }

    private bool StartsWithStartLine(Connection connection, int side, ReadOnlySpan<byte> data) =>
        side == connection.ClientSide
            ? HttpHeadParser.ParseRequest(data, _options.MaxHeadBytes).HasStartLine
            : HttpHeadParser.ParseResponse(data, _options.MaxHeadBytes).HasStartLine;

    /// <summary>The client is whoever sends a request line; a connection that starts with neither is not HTTP.</summary>
    private bool DecideRoles(Connection connection, int side, ReadOnlySpan<byte> data)
    {
        if (data.Length >= "HTTP/".Length && HttpHeadParser.IsStatusLinePrefix(data))
        {
            connection.ClientSide = 1 - side;
            return true;
        }

        if (HttpHeadParser.ParseRequest(data, _options.MaxHeadBytes).Status != HeadParseStatus.Invalid)
        {
            connection.ClientSide = side;
            return true;
        }

        MarkNonHttp(connection);
        return false;
    }

    private void MarkNonHttp(Connection connection)
    {
        _counters.NonHttpConnections.Increment();
        connection.BecomeNonHttp();
    }

    private int ReadRequestHead(Connection connection, int side, ReadOnlySpan<byte> data, bool reachesSegmentEnd, in SegmentContext segment)
    {
        var half = connection.Half(side);
        var bytes = half.HeadBytes(data, _options.MaxHeadBytes);
        var head = HttpHeadParser.ParseRequest(bytes, _options.MaxHeadBytes);
        if (head.Status == HeadParseStatus.Complete)
        {
            var consumed = head.Length - half.HeadBuffered;
            OnRequest(connection, half, head, framed: true, segment);
            half.ReleaseHead();
            return consumed;
        }

        if (head.Status == HeadParseStatus.Incomplete && reachesSegmentEnd)
        {
            half.KeepHead(bytes, _options.MaxHeadBytes);
            return data.Length;
        }

        if (head.HasStartLine)
        {
            // The head's end is out of sight, but the request line is known: its response can still be paired.
            OnRequest(connection, half, head, framed: false, segment);
        }

        return LoseHead(connection, side, head.Status, segment);
    }

    private int ReadResponseHead(Connection connection, int side, ReadOnlySpan<byte> data, bool reachesSegmentEnd, in SegmentContext segment)
    {
        var half = connection.Half(side);
        var bytes = half.HeadBytes(data, _options.MaxHeadBytes);
        var head = HttpHeadParser.ParseResponse(bytes, _options.MaxHeadBytes);
        if (head.Status == HeadParseStatus.Complete)
        {
            var consumed = head.Length - half.HeadBuffered;
            half.ReleaseHead();
            return OnResponse(connection, side, head, framed: true, segment) ? consumed : ConnectionRemoved;
        }

        if (head.Status == HeadParseStatus.Incomplete && reachesSegmentEnd)
        {
            half.KeepHead(bytes, _options.MaxHeadBytes);
            return data.Length;
        }

        if (head.HasStartLine)
        {
            OnResponse(connection, side, head, framed: false, segment);
        }

        return LoseHead(connection, side, head.Status, segment);
    }

    private int LoseHead(Connection connection, int side, HeadParseStatus status, in SegmentContext segment)
    {
        if (status == HeadParseStatus.Invalid && !connection.HasSeenHttp)
        {
            MarkNonHttp(connection);
            return StopSegment;
        }

        var counter = status switch
        {
            HeadParseStatus.Oversized => _counters.OversizedHeads,
            HeadParseStatus.Invalid => _counters.InvalidHeads,
            _ => _counters.Desyncs,
        };
        return LoseStream(connection, side, counter, segment);
    }

    /// <summary>The stream's position is lost: wait for a start line. On the server side, pairing is lost too.</summary>
    private int LoseStream(Connection connection, int side, Counter reason, in SegmentContext segment)
    {
        reason.Increment();
        connection.Half(side).ResetMessage(StreamState.Desynced);
        if (side != connection.ClientSide)
        {
            EmitOpenExchange(connection, segment.Completed);
            _counters.UnansweredRequests.Add(connection.Requests.Count);
            connection.Requests.Clear();
        }

        return StopSegment;
    }

    private void OnRequest(Connection connection, HalfStream half, scoped in RequestHead head, bool framed, in SegmentContext segment)
    {
        connection.HasSeenHttp = true;
        var method = HttpStrings.Method(head.Method, _interner);
        // Pipelined requests read from one segment share its timestamp, and a time-series store keeps one point per
        // series and timestamp: each request of a connection starts at least 1 ns after the one before.
        connection.LastRequestStartNs = Math.Max(half.MessageStartNs, connection.LastRequestStartNs + 1);
        var request = new PendingRequest
        {
            Id = ++connection.NextRequestId,
            StartNs = connection.LastRequestStartNs,
            Method = method,
            Path = HttpStrings.Path(head.Target, _options.RecordQueryStrings, ref connection.RecentPath, out var query),
            Query = query,
            Version = HttpStrings.Version(head.Version),
            Host = head.Fields.Host.IsEmpty ? null : InternHost(connection, head.Fields.Host),
            Direction = segment.TowardsEndpoint ? TrafficDirection.In : TrafficDirection.Out,
            IsHead = method == "HEAD",
            IsConnect = method == "CONNECT",
            ClosesConnection = !head.Fields.KeepsAlive(head.Version),
            BodyBytes = !framed || head.Fields.Chunked ? -1 : Math.Max(head.Fields.ContentLength, 0),
        };
        if (!connection.Requests.TryEnqueue(request))
        {
            _counters.PipelineOverflow.Increment();
        }

        if (!framed)
        {
            return;
        }

        if (head.Fields.Chunked)
        {
            half.State = StreamState.InChunkedBody;
            half.BodyOwnerId = request.Id;
        }
        else if (head.Fields.ContentLength > 0)
        {
            half.State = StreamState.InBody;
            half.BodyRemaining = head.Fields.ContentLength;
        }
        else
        {
            half.State = StreamState.AwaitingHead;
        }
    }

    // A connection mostly repeats its Host: comparing with the latest one is cheaper than a lookup in the interner.
    private string InternHost(Connection connection, ReadOnlySpan<byte> host) =>
        connection.RecentHost is { } recent && Ascii.Equals(host, recent) ? recent : connection.RecentHost = _interner.Intern(host);

    /// <summary>Pairs a final response with the oldest pending request; false when it ended the connection.</summary>
    private bool OnResponse(Connection connection, int side, scoped in ResponseHead head, bool framed, in SegmentContext segment)
    {
        connection.HasSeenHttp = true;
        var half = connection.Half(side);
        var status = head.StatusCode;
        if (status < 200 && status != StatusSwitchingProtocols)
        {
            half.State = StreamState.AwaitingHead;
            return true;
        }

        // No exchange is open here: every path that opens one emits it before the server side reads another head.
        if (!connection.Requests.TryDequeue(out connection.OpenRequest))
        {
            _counters.UnmatchedResponses.Increment();
            return !framed || FrameResponseBody(connection, side, head, hasNoBody: false, segment);
        }

        ref readonly var request = ref connection.OpenRequest;
        connection.HasOpenExchange = true;
        connection.OpenStatus = status;
        connection.OpenStartUnixNs = request.StartNs + MonotonicToUnixOffsetNs;
        connection.OpenDurationNs = half.MessageStartNs - request.StartNs;
        connection.OpenServerSide = side;
        connection.ClosesAfterResponse = request.ClosesConnection || !head.Fields.KeepsAlive(head.Version);
        if (!framed)
        {
            return true;
        }

        if (status == StatusSwitchingProtocols || (request.IsConnect && status < 300))
        {
            connection.ResponseBodyBytes = 0;
            EmitOpenExchange(connection, segment.Completed);
            connection.BecomeOpaque();
            return true;
        }

        return FrameResponseBody(connection, side, head, request.IsHead || status is 204 or 304, segment);
    }

    /// <summary>RFC 9112 6.3 message body length of a response; false when the response ended the connection.</summary>
    private bool FrameResponseBody(Connection connection, int side, scoped in ResponseHead head, bool hasNoBody, in SegmentContext segment)
    {
        var half = connection.Half(side);
        if (hasNoBody || (!head.Fields.Chunked && head.Fields.ContentLength == 0))
        {
            connection.ResponseBodyBytes = 0;
            return EndMessage(connection, side, segment);
        }

        if (head.Fields.Chunked)
        {
            half.State = StreamState.InChunkedBody;
        }
        else if (head.Fields.ContentLength > 0)
        {
            connection.ResponseBodyBytes = head.Fields.ContentLength;
            half.State = StreamState.InBody;
            half.BodyRemaining = head.Fields.ContentLength;
        }
        else
        {
            half.State = StreamState.UntilClose;
        }

        return true;
    }

    /// <summary>A message ended: emit the exchange when it was a response. False when the connection ended with it.</summary>
    private bool EndMessage(Connection connection, int side, in SegmentContext segment)
    {
        var half = connection.Half(side);
        if (side == connection.ClientSide)
        {
            if (half.State == StreamState.InChunkedBody)
            {
                connection.Requests.SetBodyBytesOfNewest(half.BodyOwnerId, half.Chunks.BodyBytes);
            }

            half.ResetMessage(StreamState.AwaitingHead);
            return true;
        }

        if (half.State == StreamState.InChunkedBody)
        {
            connection.ResponseBodyBytes = half.Chunks.BodyBytes;
        }

        half.ResetMessage(StreamState.AwaitingHead);
        var closes = (connection.ClosesAfterResponse && connection.HasOpenExchange)
            || (connection.ClientFinished && connection.Requests.Count == 0);
        EmitOpenExchange(connection, segment.Completed);
        if (closes)
        {
            RemoveConnection(connection, segment.Completed);
            return false;
        }

        return true;
    }

    /// <summary>FIN or RST: a response delimited by the close is complete now.</summary>
    private void EndConnection(Connection connection, List<HttpExchange> completed)
    {
        if (connection.ClientSide != Connection.UnknownSide
            && connection.Half(1 - connection.ClientSide) is { State: StreamState.UntilClose } server)
        {
            connection.ResponseBodyBytes = server.UntilCloseBytes;
        }

        RemoveConnection(connection, completed);
    }

    private void RemoveConnection(Connection connection, List<HttpExchange> completed)
    {
        EmitOpenExchange(connection, completed);
        _counters.UnansweredRequests.Add(connection.Requests.Count);
        _table.Remove(connection);
    }

    private void EmitOpenExchange(Connection connection, List<HttpExchange> completed)
    {
        if (!connection.HasOpenExchange)
        {
            return;
        }

        ref readonly var request = ref connection.OpenRequest;
        var server = connection.Endpoint(connection.OpenServerSide);
        var client = connection.Endpoint(1 - connection.OpenServerSide);
        var names = _namer is null
            ? ExchangeNames.None
            : request.Direction == TrafficDirection.In ? _namer.Name(server, client) : _namer.Name(client, server);
        completed.Add(new HttpExchange
        {
            StartUnixNs = connection.OpenStartUnixNs,
            DurationNs = connection.OpenDurationNs,
            Direction = request.Direction,
            Method = request.Method,
            Path = request.Path,
            Query = request.Query,
            Status = connection.OpenStatus,
            Version = request.Version,
            Host = request.Host,
            RequestBodyBytes = request.BodyBytes,
            ResponseBodyBytes = connection.ResponseBodyBytes,
            Client = client,
            Server = server,
            Interface = names.Interface,
            Workload = names.Workload,
            Peer = names.Peer,
        });
        connection.HasOpenExchange = false;
        connection.ResponseBodyBytes = -1;
        _counters.Exchanges.Increment();
    }

    private readonly record struct SegmentContext(long TimestampNs, bool TowardsEndpoint, List<HttpExchange> Completed);
}
