using System.Buffers;
using System.Text;

namespace Kubebpf.Http.Parsing;

/// <summary>
/// Allocation-free HTTP/1.x head parser over captured bytes (RFC 9112). It reads the start line, finds the end of the
/// head (CRLF CRLF, bare LF tolerated) and keeps only the headers that decide framing and pairing. Every search is a
/// vectorised <c>IndexOf</c>/<c>IndexOfAnyExcept</c>; nothing is copied.
/// </summary>
internal static class HttpHeadParser
{
    /// <summary>Default cap on a head: longer heads are reported as oversized instead of being buffered.</summary>
    public const int DefaultMaxHeadBytes = 16 * 1024;

    /// <summary>Longer method tokens are legal but never seen; the cap lets garbage fail fast.</summary>
    public const int MaxMethodLength = 32;

    private const int StatusLineMinLength = 12;

    /// <summary>RFC 9110 5.6.2 tchar: the bytes of a method token.</summary>
    internal static readonly SearchValues<byte> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // Controls, space and DEL cannot appear in a request-target.
    private static readonly SearchValues<byte> NonTargetChars = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F \u007F"u8);

    /// <summary>Parses a request head at the start of <paramref name="data"/>, looking at most at <paramref name="maxHeadBytes"/> bytes.</summary>
    public static RequestHead ParseRequest(ReadOnlySpan<byte> data, int maxHeadBytes)
    {
        var head = new RequestHead();
        head.Fields.ContentLength = -1;
        var window = data.Length > maxHeadBytes ? data[..maxHeadBytes] : data;
        var lineEnd = window.IndexOf((byte)'\n');
        if (lineEnd < 0)
        {
            head.Status = !IsRequestLinePrefix(window) ? HeadParseStatus.Invalid : Pending(data.Length, maxHeadBytes);
            head.Error = head.Status == HeadParseStatus.Invalid ? HeadError.RequestLine : HeadError.None;
            return head;
        }

        if (!TryParseRequestLine(TrimCarriageReturn(window[..lineEnd]), ref head))
        {
            head.Status = HeadParseStatus.Invalid;
            head.Error = HeadError.RequestLine;
            return head;
        }

        head.HasStartLine = true;
        head.Status = ParseFields(window, lineEnd + 1, data.Length >= maxHeadBytes, unfolds: false, ref head.Fields, out head.Length, out head.Error);
        if (head.Status == HeadParseStatus.Complete && head.Fields.HasTransferEncoding && !head.Fields.Chunked)
        {
            // RFC 9112 6.3: a request whose last coding is not chunked cannot be framed.
            head.Status = HeadParseStatus.Invalid;
            head.Error = HeadError.TransferEncoding;
        }

        return head;
    }

    /// <summary>Parses a response head at the start of <paramref name="data"/>, looking at most at <paramref name="maxHeadBytes"/> bytes.</summary>
    public static ResponseHead ParseResponse(ReadOnlySpan<byte> data, int maxHeadBytes)
    {
        var head = new ResponseHead();
        head.Fields.ContentLength = -1;
        var window = data.Length > maxHeadBytes ? data[..maxHeadBytes] : data;
        var lineEnd = window.IndexOf((byte)'\n');
        if (lineEnd < 0)
        {
            head.Status = !IsStatusLinePrefix(window) ? HeadParseStatus.Invalid : Pending(data.Length, maxHeadBytes);
            head.Error = head.Status == HeadParseStatus.Invalid ? HeadError.StatusLine : HeadError.None;
            return head;
        }

        if (!TryParseStatusLine(TrimCarriageReturn(window[..lineEnd]), ref head))
        {
            head.Status = HeadParseStatus.Invalid;
            head.Error = HeadError.StatusLine;
            return head;
        }

        head.HasStartLine = true;
        head.Status = ParseFields(window, lineEnd + 1, data.Length >= maxHeadBytes, unfolds: true, ref head.Fields, out head.Length, out head.Error);
        return head;
    }

    /// <summary>
    /// Whether the bytes could begin a status line. Checked before <see cref="ParseRequest"/> on a connection whose
    /// roles are unknown, because <c>HTTP/1.1</c> is also a valid method token.
    /// </summary>
    public static bool IsStatusLinePrefix(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> version = "HTTP/1."u8;
        var n = Math.Min(data.Length, StatusLineMinLength + 1);
        for (var i = 0; i < n; i++)
        {
            var b = data[i];
            var ok = i switch
            {
                < 7 => b == version[i],
                7 => b is (byte)'0' or (byte)'1',
                8 => b == ' ',
                < StatusLineMinLength => char.IsAsciiDigit((char)b),
                _ => b is (byte)' ' or (byte)'\r' or (byte)'\n',
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Skips the empty lines (CRLF or bare LF) a recipient ignores before a start line (RFC 9112 2.2) and returns where
    /// the rest starts. <paramref name="endsInCarriageReturn"/>: the data ends with a CR that may begin one more.
    /// </summary>
    public static int SkipEmptyLines(ReadOnlySpan<byte> data, out bool endsInCarriageReturn)
    {
        var position = 0;
        while (position < data.Length)
        {
            if (data[position] == '\n')
            {
                position++;
            }
            else if (data[position] == '\r' && position + 1 < data.Length && data[position + 1] == '\n')
            {
                position += 2;
            }
            else
            {
                break;
            }
        }

        endsInCarriageReturn = position == data.Length - 1 && data[position] == '\r';
        return position;
    }

    private static HeadParseStatus Pending(int available, int maxHeadBytes) =>
        available >= maxHeadBytes ? HeadParseStatus.Oversized : HeadParseStatus.Incomplete;

    private static ReadOnlySpan<byte> TrimCarriageReturn(ReadOnlySpan<byte> line) =>
        !line.IsEmpty && line[^1] == '\r' ? line[..^1] : line;

    private static bool TryParseRequestLine(ReadOnlySpan<byte> line, ref RequestHead head)
    {
        var methodEnd = line.IndexOf((byte)' ');
        if (methodEnd <= 0 || methodEnd > MaxMethodLength || line[..methodEnd].IndexOfAnyExcept(TokenChars) >= 0)
        {
            return false;
        }

        var rest = line[(methodEnd + 1)..];
        var targetEnd = rest.IndexOfAny(NonTargetChars);
        if (targetEnd <= 0 || rest[targetEnd] != ' ' || !TryParseVersion(rest[(targetEnd + 1)..], out head.Version))
        {
            return false;
        }

        head.Method = line[..methodEnd];
        head.Target = rest[..targetEnd];
        return true;
    }

    private static bool IsRequestLinePrefix(ReadOnlySpan<byte> partial)
    {
        var methodEnd = partial.IndexOfAnyExcept(TokenChars);
        if (methodEnd < 0)
        {
            return partial.Length <= MaxMethodLength;
        }

        if (methodEnd == 0 || methodEnd > MaxMethodLength || partial[methodEnd] != ' ')
        {
            return false;
        }

        var rest = partial[(methodEnd + 1)..];
        var targetEnd = rest.IndexOfAny(NonTargetChars);
        if (targetEnd < 0)
        {
            return true;
        }

        if (targetEnd == 0 || rest[targetEnd] != ' ')
        {
            return false;
        }

        var version = rest[(targetEnd + 1)..];
        return "HTTP/1.1\r"u8.StartsWith(version) || "HTTP/1.0\r"u8.StartsWith(version);
    }

    private static bool TryParseStatusLine(ReadOnlySpan<byte> line, ref ResponseHead head)
    {
        if (line.Length < StatusLineMinLength || !TryParseVersion(line[..8], out head.Version) || line[8] != ' '
            || (line.Length > StatusLineMinLength && line[StatusLineMinLength] != ' '))
        {
            return false;
        }

        var code = 0;
        foreach (var digit in line[9..StatusLineMinLength])
        {
            if (!char.IsAsciiDigit((char)digit))
            {
                return false;
            }

            code = (code * 10) + (digit - '0');
        }

        head.StatusCode = code;
        return code >= 100;
    }

    private static bool TryParseVersion(ReadOnlySpan<byte> text, out HttpVersion version)
    {
        version = HttpVersion.Http11;
        if (text.Length != 8 || !text.StartsWith("HTTP/1."u8))
        {
            return false;
        }

        switch (text[7])
        {
            case (byte)'1':
                return true;
            case (byte)'0':
                version = HttpVersion.Http10;
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Reads the field lines up to the empty line. With <paramref name="unfolds"/> (responses), a line starting with
    /// whitespace is accepted: a user agent must unfold obs-fold (RFC 9112 5.2) and may skip such a line right after the
    /// start line (2.2). Its text only continues the field before, so it is skipped, unless that field frames the body:
    /// a folded Content-Length or Transfer-Encoding leaves the framing unsure, and the head is invalid. Servers reject
    /// folded requests (or unfold them: nothing tells which), so a request's fold is invalid.
    /// </summary>
    private static HeadParseStatus ParseFields(
        ReadOnlySpan<byte> window, int start, bool capped, bool unfolds, ref HeadFields fields, out int length, out HeadError error)
    {
        length = 0;
        error = HeadError.None;
        var position = start;
        var framingFieldBefore = false;
        while (true)
        {
            var lineEnd = window[position..].IndexOf((byte)'\n');
            if (lineEnd < 0)
            {
                return capped ? HeadParseStatus.Oversized : HeadParseStatus.Incomplete;
            }

            var line = TrimCarriageReturn(window.Slice(position, lineEnd));
            position += lineEnd + 1;
            if (line.IsEmpty)
            {
                length = position;
                return HeadParseStatus.Complete;
            }

            if (unfolds && !framingFieldBefore && line[0] is (byte)' ' or (byte)'\t')
            {
                continue;
            }

            error = ReadHeader(line, ref fields, out framingFieldBefore);
            if (error != HeadError.None)
            {
                return HeadParseStatus.Invalid;
            }
        }
    }

    private static HeadError ReadHeader(ReadOnlySpan<byte> line, ref HeadFields fields, out bool framing)
    {
        framing = false;
        // A line starting with whitespace (obs-fold) is no field line: where ParseFields does not skip it, it is invalid.
        var colon = line.IndexOfAnyExcept(TokenChars);
        if (colon <= 0 || line[colon] != ':')
        {
            return HeadError.HeaderLine;
        }

        // Most lines are skipped: length and first letter rule out most names before a full comparison (as User-Agent
        // and Connection, or Date and Host, have the same length), and only the values of the headers kept are trimmed.
        var name = line[..colon];
        switch ((name.Length, name[0] | 0x20))
        {
            case (4, 'h') when Ascii.EqualsIgnoreCase(name, "host"u8):
                fields.Host = Value(line, colon);
                break;
            case (6, 'e') when Ascii.EqualsIgnoreCase(name, "expect"u8):
                fields.ExpectContinue = Ascii.EqualsIgnoreCase(Value(line, colon), "100-continue"u8);
                break;
            case (10, 'c') when Ascii.EqualsIgnoreCase(name, "connection"u8):
                ReadConnectionOptions(Value(line, colon), ref fields);
                break;
            case (14, 'c') when Ascii.EqualsIgnoreCase(name, "content-length"u8):
                framing = true;
                return ReadContentLength(Value(line, colon), ref fields);
            case (17, 't') when Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8):
                framing = true;
                fields.HasTransferEncoding = true;
                fields.Chunked = Ascii.EqualsIgnoreCase(LastListItem(Value(line, colon)), "chunked"u8);
                break;
        }

        return HeadError.None;
    }

    private static ReadOnlySpan<byte> Value(ReadOnlySpan<byte> line, int colon) => line[(colon + 1)..].Trim(" \t"u8);

    private static void ReadConnectionOptions(ReadOnlySpan<byte> value, ref HeadFields fields)
    {
        while (!value.IsEmpty)
        {
            var comma = value.IndexOf((byte)',');
            var option = (comma < 0 ? value : value[..comma]).Trim(" \t"u8);
            fields.ConnectionClose |= Ascii.EqualsIgnoreCase(option, "close"u8);
            fields.ConnectionKeepAlive |= Ascii.EqualsIgnoreCase(option, "keep-alive"u8);
            value = comma < 0 ? default : value[(comma + 1)..];
        }
    }

    // RFC 9110 8.6: a list of identical values is the same as one; anything else is an error.
    private static HeadError ReadContentLength(ReadOnlySpan<byte> value, ref HeadFields fields)
    {
        do
        {
            var comma = value.IndexOf((byte)',');
            var item = (comma < 0 ? value : value[..comma]).Trim(" \t"u8);
            if (item.IsEmpty || item.Length > 18 || item.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
            {
                return HeadError.ContentLength;
            }

            long length = 0;
            foreach (var digit in item)
            {
                length = (length * 10) + (digit - '0');
            }

            if (fields.ContentLength >= 0 && fields.ContentLength != length)
            {
                return HeadError.ConflictingContentLength;
            }

            fields.ContentLength = length;
            value = comma < 0 ? default : value[(comma + 1)..];
        }
        while (!value.IsEmpty);

        return HeadError.None;
    }

    private static ReadOnlySpan<byte> LastListItem(ReadOnlySpan<byte> value)
    {
        var comma = value.LastIndexOf((byte)',');
        return (comma < 0 ? value : value[(comma + 1)..]).Trim(" \t"u8);
    }
}
