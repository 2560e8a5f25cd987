using System.Text;

namespace Kubebpf.Http.Parsing;

/// <summary>Shared strings for the values that repeat on every exchange, so that only a path that changed allocates.</summary>
internal static class HttpStrings
{
    public const string Http10 = "HTTP/1.0";
    public const string Http11 = "HTTP/1.1";

    private static readonly byte[][] StandardMethods =
        [.. new[] { "GET", "PUT", "POST", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE" }.Select(Encoding.ASCII.GetBytes)];

    public static string Version(HttpVersion version) => version == HttpVersion.Http10 ? Http10 : Http11;

    /// <summary>Whether <paramref name="method"/> is one of the methods of RFC 9110 and RFC 5789.</summary>
    public static bool IsStandardMethod(ReadOnlySpan<byte> method)
    {
        foreach (var standard in StandardMethods)
        {
            if (method.SequenceEqual(standard))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="partial"/> may be the start of a request line with a standard method: a prefix of one,
    /// or one followed by a space and whatever comes after it.
    /// </summary>
    public static bool StartsWithStandardMethod(ReadOnlySpan<byte> partial)
    {
        var space = partial.IndexOf((byte)' ');
        if (space >= 0)
        {
            return IsStandardMethod(partial[..space]);
        }

        foreach (var standard in StandardMethods)
        {
            if (standard.AsSpan().StartsWith(partial))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The standard method names (RFC 9110, RFC 5789) as literals; any other token goes through <paramref name="others"/>.</summary>
    public static string Method(ReadOnlySpan<byte> method, StringInterner others) => method switch
    {
        [(byte)'G', (byte)'E', (byte)'T'] => "GET",
        [(byte)'P', (byte)'U', (byte)'T'] => "PUT",
        [(byte)'P', (byte)'O', (byte)'S', (byte)'T'] => "POST",
        [(byte)'H', (byte)'E', (byte)'A', (byte)'D'] => "HEAD",
        _ when method.SequenceEqual("DELETE"u8) => "DELETE",
        _ when method.SequenceEqual("OPTIONS"u8) => "OPTIONS",
        _ when method.SequenceEqual("PATCH"u8) => "PATCH",
        _ when method.SequenceEqual("CONNECT"u8) => "CONNECT",
        _ when method.SequenceEqual("TRACE"u8) => "TRACE",
        _ => others.Intern(method),
    };

    /// <summary>
    /// Splits a request-target at the first <c>?</c>; the query string is decoded only when asked for. The path is
    /// <paramref name="recentPath"/> when that holds the same text, else a new string that becomes the recent one.
    /// </summary>
    public static string Path(ReadOnlySpan<byte> target, bool withQuery, ref string? recentPath, out string? query)
    {
        var mark = target.IndexOf((byte)'?');
        query = mark >= 0 && withQuery ? Encoding.UTF8.GetString(target[(mark + 1)..]) : null;
        var path = mark >= 0 ? target[..mark] : target;
        // Ascii.Equals is false for any non-ASCII byte: such paths are decoded every time.
        return recentPath is not null && Ascii.Equals(path, recentPath) ? recentPath : recentPath = Encoding.UTF8.GetString(path);
    }
}
