using System.Buffers;
using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;
using Kubebpf.Http.Routing;

namespace Kubebpf.Http.Privacy;

/// <summary>
/// Masks the parts of a request target (query string already removed) that may be secrets, before any exchange,
/// call log, console line or log message holds it: the userinfo of an absolute-form or authority-form target always;
/// with <see cref="HttpOptions.RedactPaths"/>, the segment after a secret-naming one (<c>/reset/&lt;token&gt;</c>), the
/// value of a <c>name=value</c> segment, random-looking tokens, and the matches of the configured patterns. Every
/// masked part becomes <see cref="Mask"/>. Runs on the capture thread, once per path that changed on a connection.
/// </summary>
internal sealed class TargetRedactor
{
    /// <summary>What a masked part becomes. It has no digit, so the route normaliser keeps it as it is.</summary>
    public const string Mask = "{redacted}";

    /// <summary>Segment names after which the next segment is masked; compared ignoring case. See the README.</summary>
    public static readonly IReadOnlyList<string> BuiltInSecretSegments =
    [
        "reset", "token", "tokens", "password", "passwords", "passwd", "secret", "secrets", "key", "keys", "apikey",
        "api-key", "api_key", "access-token", "access_token", "auth", "session", "sessions", "signature", "sig",
        "invite", "invitation", "verify", "verification", "confirm", "activate", "activation", "unsubscribe", "otp",
        "credentials", "magic-link",
    ];

    /// <summary>Tokens need this many class changes (lowercase, uppercase, digit) per ten characters.</summary>
    private const int TokenClassChangesPerTenChars = 3;

    private static readonly SearchValues<char> TokenCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+%");

    private readonly bool _redactPaths;
    private readonly int _tokenMinLength;
    private readonly FrozenSet<string> _secretSegments;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _secretSegmentLookup;
    private readonly Regex[] _patterns;

    public TargetRedactor(HttpOptions options)
    {
        _redactPaths = options.RedactPaths;
        _tokenMinLength = options.RedactTokenMinLength;
        _secretSegments = BuiltInSecretSegments.Concat(options.RedactAfterSegments).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _secretSegmentLookup = _secretSegments.GetAlternateLookup<ReadOnlySpan<char>>();
        _patterns = [.. options.RedactPatterns.Select(CompilePattern)];
    }

    /// <summary>
    /// A configured pattern as it runs: linear in the path's length whatever the pattern (no backtracking), and paths
    /// are bounded by <see cref="HttpOptions.MaxHeadBytes"/>, so it needs no timeout.
    /// </summary>
    internal static Regex CompilePattern(string pattern) =>
        new(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);

    /// <summary>The target with its secrets masked; <paramref name="target"/> itself when nothing was masked.</summary>
    public string Redact(string target)
    {
        var builder = (StringBuilder?)null;
        var pathStart = RedactUserInfo(target, ref builder);
        if (_redactPaths)
        {
            RedactSegments(target, pathStart, ref builder);
        }
        else
        {
            builder?.Append(target, pathStart, target.Length - pathStart);
        }

        var redacted = builder is null ? target : builder.ToString();
        return _redactPaths && _patterns.Length > 0 ? ApplyPatterns(redacted) : redacted;
    }

    /// <summary>
    /// Masks <c>user:password@</c> in a target that is not a path (<c>http://user:pw@host/...</c>, <c>user@host:443</c>,
    /// <c>//user@host/...</c>)
    /// and returns where its path starts (the target's length when it has none).
    /// </summary>
    private static int RedactUserInfo(string target, ref StringBuilder? builder)
    {
        // A path, unless it starts with "//": then an authority follows, as in a network-path reference.
        var networkPath = target.StartsWith("//", StringComparison.Ordinal);
        if (target.StartsWith('/') && !networkPath)
        {
            return 0;
        }

        var scheme = networkPath ? -1 : target.IndexOf("://", StringComparison.Ordinal);
        var authorityStart = networkPath ? 2 : scheme < 0 ? 0 : scheme + 3;
        var slash = target.IndexOf('/', authorityStart);
        var authorityEnd = slash < 0 ? target.Length : slash;
        var at = target.AsSpan(authorityStart, authorityEnd - authorityStart).LastIndexOf('@');
        if (at >= 0)
        {
            builder = new StringBuilder(target.Length).Append(target, 0, authorityStart).Append(Mask);
            builder.Append(target, authorityStart + at, authorityEnd - authorityStart - at);
        }

        return authorityEnd;
    }

    /// <summary>Masks path segments from <paramref name="pathStart"/> on, copying into <paramref name="builder"/> once one is masked.</summary>
    private void RedactSegments(string target, int pathStart, ref StringBuilder? builder)
    {
        var previous = ReadOnlySpan<char>.Empty;
        var copiedUpTo = builder is null ? 0 : pathStart;
        var start = pathStart;
        while (start < target.Length)
        {
            // target[start] is '/': the segment runs to the next one.
            var next = target.IndexOf('/', start + 1);
            var end = next < 0 ? target.Length : next;
            var segment = target.AsSpan(start + 1, end - start - 1);
            var keep = KeptLength(previous, segment);
            if (keep < segment.Length)
            {
                builder ??= new StringBuilder(target.Length);
                builder.Append(target, copiedUpTo, start + 1 + keep - copiedUpTo).Append(Mask);
                copiedUpTo = end;
            }

            previous = segment;
            start = end;
        }

        builder?.Append(target, copiedUpTo, target.Length - copiedUpTo);
    }

    /// <summary>How much of <paramref name="segment"/> stays visible: all of it, the name of <c>name=value</c>, or nothing.</summary>
    private int KeptLength(ReadOnlySpan<char> previous, ReadOnlySpan<char> segment)
    {
        if (segment.IsEmpty)
        {
            return 0;
        }

        if (!previous.IsEmpty && _secretSegmentLookup.Contains(previous))
        {
            return 0;
        }

        var equals = segment.IndexOf('=');
        if (equals >= 0)
        {
            return equals + 1;
        }

        return IsToken(segment, _tokenMinLength) ? 0 : segment.Length;
    }

    /// <summary>
    /// Whether a segment looks like a generated secret: at least <paramref name="minLength"/> characters of the token
    /// alphabets (base64url, hex, percent-encoding), not a UUID (an identifier the route normaliser handles), with
    /// letters and at least two digits, and mixing character classes the way random text does (at least 3 changes
    /// between lowercase, uppercase and digit per 10 characters; slugs, dates and long numbers stay far below that,
    /// and camelCase names, which change class often, have no digits).
    /// </summary>
    internal static bool IsToken(ReadOnlySpan<char> segment, int minLength)
    {
        if (minLength == 0 || segment.Length < minLength || segment.ContainsAnyExcept(TokenCharacters)
            || RouteNormalizer.IsUuid(segment))
        {
            return false;
        }

        var changes = 0;
        var digits = 0;
        var letters = 0;
        var last = CharClass.Other;
        foreach (var c in segment)
        {
            var current = char.IsAsciiDigit(c) ? CharClass.Digit
                : char.IsAsciiLetterLower(c) ? CharClass.Lower
                : char.IsAsciiLetterUpper(c) ? CharClass.Upper
                : CharClass.Other;
            if (current == CharClass.Other)
            {
                continue;
            }

            digits += current == CharClass.Digit ? 1 : 0;
            letters += current == CharClass.Digit ? 0 : 1;
            changes += last != CharClass.Other && current != last ? 1 : 0;
            last = current;
        }

        return digits >= 2 && letters > 0 && changes * 10 >= segment.Length * TokenClassChangesPerTenChars;
    }

    private string ApplyPatterns(string path)
    {
        foreach (var pattern in _patterns)
        {
            path = pattern.Replace(path, Mask);
        }

        return path;
    }

    private enum CharClass
    {
        Other,
        Lower,
        Upper,
        Digit,
    }
}
