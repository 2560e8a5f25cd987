namespace Kubebpf.Http.Parsing;

/// <summary>The header values that decide message framing and pairing; everything else is skipped.</summary>
internal ref struct HeadFields
{
    /// <summary>Content-Length, or -1 when absent.</summary>
    public long ContentLength;

    /// <summary>The last transfer coding is <c>chunked</c>.</summary>
    public bool Chunked;

    /// <summary>A Transfer-Encoding header is present (chunked or not).</summary>
    public bool HasTransferEncoding;

    /// <summary><c>Connection: close</c>.</summary>
    public bool ConnectionClose;

    /// <summary><c>Connection: keep-alive</c>.</summary>
    public bool ConnectionKeepAlive;

    /// <summary><c>Expect: 100-continue</c>.</summary>
    public bool ExpectContinue;

    /// <summary>The Host value without surrounding whitespace; empty when absent.</summary>
    public ReadOnlySpan<byte> Host;

    /// <summary>Whether the connection stays open after this message, by the message's own version and headers.</summary>
    public readonly bool KeepsAlive(HttpVersion version) =>
        !ConnectionClose && (version == HttpVersion.Http11 || ConnectionKeepAlive);
}
