namespace Kubebpf.Http.Parsing;

/// <summary>A parsed request head; spans point into the parsed buffer.</summary>
internal ref struct RequestHead
{
    public HeadParseStatus Status;
    public HeadError Error;

    /// <summary>Bytes of the head including the blank line, when <see cref="HeadParseStatus.Complete"/>.</summary>
    public int Length;

    /// <summary>The request line is complete and valid (also set for incomplete and oversized heads).</summary>
    public bool HasStartLine;

    public ReadOnlySpan<byte> Method;
    public ReadOnlySpan<byte> Target;
    public HttpVersion Version;
    public HeadFields Fields;
}
