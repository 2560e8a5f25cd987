namespace Kubebpf.Http.Streams;

/// <summary>Where one direction of a connection is in its stream of HTTP messages.</summary>
internal enum StreamState : byte
{
    /// <summary>Between messages: empty lines are skipped, then a head starts.</summary>
    AwaitingHead,

    /// <summary>A head that has not ended yet: left unconsumed, the capture offers it again with the next bytes.</summary>
    InHead,

    /// <summary>Content-Length bytes remain.</summary>
    InBody,

    /// <summary>A chunked body, followed through its chunk-size lines.</summary>
    InChunkedBody,

    /// <summary>A response without a length: it ends when the connection does.</summary>
    UntilClose,

    /// <summary>Not HTTP any more: after a CONNECT request (client), or once a connection became a tunnel (both).</summary>
    Tunnel,

    /// <summary>Position lost: waiting for data that starts with a start line.</summary>
    Desynced,
}
