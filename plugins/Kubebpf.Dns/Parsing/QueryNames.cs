namespace Kubebpf.Dns.Parsing;

/// <summary>Query names as R.E.D. tags: reverse lookups collapsed (one tag per zone, not per address), over-long names replaced.</summary>
internal static class QueryNames
{
    public const int MaxTagLength = 255;

    public const string Long = "{long}";

    private const string Reverse4 = ".in-addr.arpa";
    private const string Reverse6 = ".ip6.arpa";
    private const string Reverse4Tag = "{ip}" + Reverse4;
    private const string Reverse6Tag = "{ip}" + Reverse6;

    /// <summary>The tag of <paramref name="name"/> (already lower case, as the parser writes names).</summary>
    public static int Normalize(ReadOnlySpan<char> name, Span<char> destination)
    {
        if (IsIn(name, Reverse4))
        {
            return Write(Reverse4Tag, destination);
        }

        if (IsIn(name, Reverse6))
        {
            return Write(Reverse6Tag, destination);
        }

        return name.Length > MaxTagLength ? Write(Long, destination) : Write(name, destination);
    }

    private static bool IsIn(ReadOnlySpan<char> name, string zone) =>
        name.Length > zone.Length && name.EndsWith(zone, StringComparison.OrdinalIgnoreCase);

    private static int Write(ReadOnlySpan<char> text, Span<char> destination)
    {
        text.CopyTo(destination);
        return text.Length;
    }
}
