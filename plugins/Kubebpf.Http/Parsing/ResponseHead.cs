namespace Kubebpf.Http.Parsing;

/// <summary>A parsed response head.</summary>
internal ref struct ResponseHead
{
    public HeadParseStatus Status;
    public HeadError Error;

    /// <summary>Bytes of the head including the blank line, when <see cref="HeadParseStatus.Complete"/>.</summary>
    public int Length;

    /// <summary>The status line is complete and valid (also set for incomplete and oversized heads).</summary>
    public bool HasStartLine;

    public int StatusCode;
    public HttpVersion Version;
    public HeadFields Fields;
}
