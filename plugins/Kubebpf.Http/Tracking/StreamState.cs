namespace Kubebpf.Http.Tracking;

/// <summary>Where one direction of a connection is in its stream of HTTP messages.</summary>
internal enum StreamState : byte
{
    AwaitingHead,

    /// <summary>A head split across segments is being collected in the stream's buffer.</summary>
    InHead,

    /// <summary>Content-Length bytes remain, skipped by sequence arithmetic.</summary>
    InBody,
    InChunkedBody,

    /// <summary>A response without a length: it ends when the connection does.</summary>
    UntilClose,

    /// <summary>After 101 Switching Protocols or a successful CONNECT: not HTTP any more.</summary>
    Opaque,

    /// <summary>Position lost; waiting for a segment that starts with a start line.</summary>
    Desynced,
}
