namespace Kubebpf.Http.Routing;

/// <summary>
/// Turns a request path into a low-cardinality route by replacing segments that look like identifiers with
/// placeholders. Span-based and allocation-free; see the plugin README for the rules in order.
/// </summary>
internal static class RouteNormalizer
{
    /// <summary>The longest route kept; a path whose route would be longer becomes <see cref="LongRoute"/>.</summary>
    public const int MaxRouteLength = 256;

    /// <summary>Mixed letter-and-digit segments at least this long become <c>{id}</c>.</summary>
    public const int MixedTokenMinLength = 8;

    /// <summary>Hex-only segments at least this long become <c>{hex}</c>.</summary>
    public const int HexTokenMinLength = 16;

    /// <summary>The route of a path whose normalised form exceeds <see cref="MaxRouteLength"/>.</summary>
    public const string LongRoute = "{long}";

    /// <summary>The route of a request target that is not a path (<c>*</c>, <c>host:port</c> of CONNECT).</summary>
    public const string NonPathRoute = "{non-path}";

    private const string IdPlaceholder = "{id}";
    private const string UuidPlaceholder = "{uuid}";
    private const string HexPlaceholder = "{hex}";
    private const string EmailPlaceholder = "{email}";

    /// <summary>Writes the route of <paramref name="path"/> into <paramref name="destination"/> and returns its length.</summary>
    /// <param name="path">A request target: origin form (<c>/a/b</c>), absolute form (<c>http://h/a</c>) or other.</param>
    /// <param name="destination">At least <see cref="MaxRouteLength"/> characters.</param>
    public static int Normalize(ReadOnlySpan<char> path, Span<char> destination)
    {
        var end = path.IndexOfAny('?', '#');
        if (end >= 0)
        {
            path = path[..end];
        }

        if (!TryGetOriginPath(path, out path))
        {
            return Write(NonPathRoute, destination);
        }

        var written = 0;
        var rest = path[1..];
        while (true)
        {
            var slash = rest.IndexOf('/');
            var segment = slash < 0 ? rest : rest[..slash];
            var replacement = Placeholder(segment);
            var text = replacement.IsEmpty ? segment : replacement;
            if (written + 1 + text.Length > MaxRouteLength)
            {
                return Write(LongRoute, destination);
            }

            destination[written++] = '/';
            text.CopyTo(destination[written..]);
            written += text.Length;
            if (slash < 0)
            {
                return written;
            }

            rest = rest[(slash + 1)..];
        }
    }

    /// <summary>The placeholder for <paramref name="segment"/>, or empty when the segment is kept as it is.</summary>
    internal static ReadOnlySpan<char> Placeholder(ReadOnlySpan<char> segment)
    {
        if (segment.IsEmpty)
        {
            return default;
        }

        if (segment.Contains('@'))
        {
            return EmailPlaceholder;
        }

        if (IsUuid(segment))
        {
            return UuidPlaceholder;
        }

        var digits = 0;
        var letters = 0;
        var hexLetters = 0;
        var separators = 0;
        foreach (var c in segment)
        {
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
            else if (char.IsAsciiLetter(c))
            {
                letters++;
                hexLetters += char.IsAsciiHexDigit(c) ? 1 : 0;
            }
            else if (c is '-' or '_' or '.' or ':' or ',')
            {
                separators++;
            }
        }

        if (digits == 0)
        {
            return default;
        }

        // Numbers, dates and versions: digits and separators only.
        if (digits + separators == segment.Length)
        {
            return IdPlaceholder;
        }

        if (digits + hexLetters == segment.Length && segment.Length >= HexTokenMinLength)
        {
            return HexPlaceholder;
        }

        // Two digits keep words like "oauth2callback" readable while catching generated ids.
        return segment.Length >= MixedTokenMinLength && digits >= 2 && letters > 0 ? IdPlaceholder : default;
    }

    private static bool TryGetOriginPath(ReadOnlySpan<char> target, out ReadOnlySpan<char> path)
    {
        path = target;
        if (target.StartsWith('/'))
        {
            return true;
        }

        // Absolute form (proxies): drop scheme and authority.
        var scheme = target.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return false;
        }

        var afterScheme = target[(scheme + 3)..];
        var slash = afterScheme.IndexOf('/');
        path = slash < 0 ? "/" : afterScheme[slash..];
        return true;
    }

    internal static bool IsUuid(ReadOnlySpan<char> segment)
    {
        if (segment.Length != 36)
        {
            return false;
        }

        for (var i = 0; i < segment.Length; i++)
        {
            var isDashPosition = i is 8 or 13 or 18 or 23;
            if (isDashPosition ? segment[i] != '-' : !char.IsAsciiHexDigit(segment[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static int Write(string text, Span<char> destination)
    {
        text.CopyTo(destination);
        return text.Length;
    }
}
