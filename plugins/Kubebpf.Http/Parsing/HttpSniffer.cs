using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Http.Parsing;

/// <summary>Recognises the start of an HTTP/1.x connection from the first bytes one side sent.</summary>
internal static class HttpSniffer
{
    /// <summary>
    /// After empty lines (RFC 9112 2.2): a standard method token and a space, with nothing after them that a request
    /// line cannot hold, is a request (the sender is the client), as is any other method token once the version
    /// follows its target; <c>HTTP/1.</c> and a plausible rest of a status line is a response (the sender is the
    /// server). Too few bytes to be sure is <see cref="SniffResult.NeedMoreData"/>.
    /// </summary>
    public static SniffResult Sniff(ReadOnlySpan<byte> data, int maxHeadBytes)
    {
        var start = HttpHeadParser.SkipEmptyLines(data, out var endsInCarriageReturn);
        data = data[start..];
        var statusPrefix = "HTTP/1."u8;
        var compared = Math.Min(data.Length, statusPrefix.Length);
        if (data.IsEmpty || endsInCarriageReturn || (compared < statusPrefix.Length && data.SequenceEqual(statusPrefix[..compared])))
        {
            return SniffResult.NeedMoreData;
        }

        // "HTTP/" cannot start a method token ('/' is not a token character): a status line cannot pass for a request.
        if (data.StartsWith(statusPrefix))
        {
            return HttpHeadParser.IsStatusLinePrefix(data) ? SniffResult.SenderIsServer : SniffResult.NotThisProtocol;
        }

        var methodEnd = data.IndexOfAnyExcept(HttpHeadParser.TokenChars);
        if (methodEnd < 0)
        {
            return data.Length <= HttpHeadParser.MaxMethodLength ? SniffResult.NeedMoreData : SniffResult.NotThisProtocol;
        }

        if (methodEnd == 0 || methodEnd > HttpHeadParser.MaxMethodLength || data[methodEnd] != ' ')
        {
            return SniffResult.NotThisProtocol;
        }

        // The rest of the request line, as far as it was sent, must fit: "rest of a body" is not "METHOD target HTTP/1.x".
        var head = HttpHeadParser.ParseRequest(data, maxHeadBytes);
        if (head.HasStartLine)
        {
            return SniffResult.SenderIsClient;
        }

        if (head.Status == HeadParseStatus.Invalid)
        {
            return SniffResult.NotThisProtocol;
        }

        // A standard method and a space are sure enough; any other word and a space starts much text, so another
        // token needs the version after its target (or a target too long to wait for).
        return HttpStrings.IsStandardMethod(data[..methodEnd]) || data.IndexOf(" HTTP/1."u8) > methodEnd || data.Length >= ProtocolMatch.MaxSniffBytes
            ? SniffResult.SenderIsClient
            : SniffResult.NeedMoreData;
    }
}
