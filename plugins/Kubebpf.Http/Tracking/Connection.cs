using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Http.Tracking;

/// <summary>One tracked TCP connection: both half-streams, the requests awaiting responses, and its place in the LRU list.</summary>
internal sealed class Connection(int maxPipelinedRequests)
{
    public const int UnknownSide = -1;

    private readonly HalfStream[] _halves = [new(), new()];

    public ConnectionKey Key;
    public long LastSeenNs;

    /// <summary>0 when the client sends from <see cref="ConnectionKey.Low"/>, 1 from High, or <see cref="UnknownSide"/>.</summary>
    public int ClientSide = UnknownSide;

    /// <summary>The first segment was not HTTP: later segments are ignored unless one starts with a request line.</summary>
    public bool IsNonHttp;

    /// <summary>A request or response head was seen: later malformed heads are losses, not a sign of another protocol.</summary>
    public bool HasSeenHttp;

    public long NextRequestId;

    /// <summary>When the latest request started (see <c>HttpConnectionTracker.OnRequest</c>); <see cref="long.MinValue"/> before the first.</summary>
    public long LastRequestStartNs = long.MinValue;

    /// <summary>A response whose body is being read: the exchange is emitted when the body ends.</summary>
    /// <remarks>
    /// The exchange is kept as its parts (the request, the <c>Open*</c> fields) and built once when it is emitted:
    /// an <see cref="HttpExchange"/> is large and full of references, and every copy of one into the heap costs.
    /// </remarks>
    public bool HasOpenExchange;

    /// <summary>The request of the open exchange.</summary>
    public PendingRequest OpenRequest;

    public int OpenStatus;
    public long OpenStartUnixNs;
    public long OpenDurationNs;

    /// <summary>The side the open exchange's response comes from.</summary>
    public int OpenServerSide;

    /// <summary>Body size of the open exchange's response, once known; -1 until then.</summary>
    public long ResponseBodyBytes = -1;

    /// <summary>
    /// The latest path and Host value of this connection's requests: a keep-alive connection mostly repeats them, and
    /// reusing the string saves decoding and allocating it. Kept when the connection is reused for another one, since
    /// it is only a guess that is checked against the bytes.
    /// </summary>
    public string? RecentPath;

    /// <inheritdoc cref="RecentPath"/>
    public string? RecentHost;

    /// <summary>The connection ends after the current response (Connection: close, HTTP/1.0).</summary>
    public bool ClosesAfterResponse;

    /// <summary>The client sent a FIN while responses were due: the connection ends once they are in.</summary>
    public bool ClientFinished;

    public Connection? Newer;
    public Connection? Older;

    public RequestQueue Requests { get; } = new(maxPipelinedRequests);

    public HalfStream Half(int side) => _halves[side];

    /// <summary>Requests wait for their responses, or a response's body is still being read.</summary>
    public bool AwaitsResponse => Requests.Count > 0 || HasOpenExchange;

    public NetworkEndpoint Endpoint(int side) => side == 0 ? Key.Low : Key.High;

    public void Reset(in ConnectionKey key, long nowNs)
    {
        Key = key;
        LastSeenNs = nowNs;
        ClientSide = UnknownSide;
        IsNonHttp = false;
        HasSeenHttp = false;
        NextRequestId = 0;
        LastRequestStartNs = long.MinValue;
        HasOpenExchange = false;
        ResponseBodyBytes = -1;
        ClosesAfterResponse = false;
        ClientFinished = false;
        Requests.Clear();
        _halves[0].Reset();
        _halves[1].Reset();
    }

    public void BecomeNonHttp()
    {
        IsNonHttp = true;
        ClientSide = UnknownSide;
        _halves[0].Reset();
        _halves[1].Reset();
    }

    /// <summary>A non-HTTP connection sent a request line from <paramref name="clientSide"/>: follow it from here.</summary>
    public void BecomeHttp(int clientSide)
    {
        IsNonHttp = false;
        ClientSide = clientSide;
    }

    /// <summary>After an upgrade or a tunnel both directions carry another protocol.</summary>
    public void BecomeOpaque()
    {
        _halves[0].ResetMessage(StreamState.Opaque);
        _halves[1].ResetMessage(StreamState.Opaque);
    }

    /// <summary>Returns pooled buffers; the connection can then be reused.</summary>
    public void Release()
    {
        _halves[0].ReleaseHead();
        _halves[1].ReleaseHead();
        HasOpenExchange = false;
        OpenRequest = default;
        Requests.Clear();
    }
}
