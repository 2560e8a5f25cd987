namespace Kubebpf.Http.Parsing;

/// <summary>Outcome of parsing a message head from the bytes seen so far.</summary>
internal enum HeadParseStatus : byte
{
    /// <summary>The head ends inside the bytes given; its length is known.</summary>
    Complete,

    /// <summary>Everything seen so far is a plausible head: more bytes are needed.</summary>
    Incomplete,

    /// <summary>Not an HTTP/1.x head (see <see cref="HeadError"/>).</summary>
    Invalid,

    /// <summary>No end of head within the size cap: the head is not buffered further.</summary>
    Oversized,
}

/// <summary>Why a head is <see cref="HeadParseStatus.Invalid"/>.</summary>
internal enum HeadError : byte
{
    None,
    RequestLine,
    StatusLine,
    HeaderLine,
    ContentLength,
    ConflictingContentLength,
    TransferEncoding,
}

/// <summary>The HTTP version of a start line.</summary>
internal enum HttpVersion : byte
{
    Http10,
    Http11,
}
