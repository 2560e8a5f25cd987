namespace Kubebpf.Dns.Search;

/// <summary>The search list of a <c>resolv.conf</c> (resolv.conf(5)): the last <c>search</c> or <c>domain</c> line wins.</summary>
internal static class ResolvConf
{
    /// <summary>More domains than any resolver walks; the rest are ignored.</summary>
    public const int MaxDomains = 32;

    public static string[] SearchDomains(string text)
    {
        string[] domains = [];
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            var trimmed = line.Trim();
            var keywordEnd = trimmed.IndexOfAny(' ', '\t');
            if (keywordEnd < 0)
            {
                continue;
            }

            var keyword = trimmed[..keywordEnd];
            if (keyword.SequenceEqual("search") || keyword.SequenceEqual("domain"))
            {
                domains = Normalize(trimmed[keywordEnd..].ToString().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
            }
        }

        return domains;
    }

    /// <summary>Domains as the parser writes names: lower case, without the trailing dot; the root and duplicates dropped.</summary>
    public static string[] Normalize(IEnumerable<string> domains) =>
        [.. domains.Select(d => d.Trim().TrimEnd('.').ToLowerInvariant()).Where(d => d.Length > 0).Distinct(StringComparer.Ordinal).Take(MaxDomains)];
}
