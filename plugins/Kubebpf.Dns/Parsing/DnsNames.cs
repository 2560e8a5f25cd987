namespace Kubebpf.Dns.Parsing;

/// <summary>The mnemonics of query types and response codes: shared strings from small sets, fit for tags.</summary>
internal static class DnsNames
{
    /// <summary>The status of a query that got no answer within the timeout.</summary>
    public const string Timeout = "TIMEOUT";

    /// <summary>A type or code outside the known sets.</summary>
    public const string Other = "OTHER";

    private static readonly string[] Rcodes =
        ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

    private static readonly Dictionary<ushort, string> Types = new()
    {
        [1] = "A", [2] = "NS", [5] = "CNAME", [6] = "SOA", [12] = "PTR", [13] = "HINFO", [15] = "MX", [16] = "TXT",
        [28] = "AAAA", [33] = "SRV", [35] = "NAPTR", [39] = "DNAME", [43] = "DS", [46] = "RRSIG", [47] = "NSEC",
        [48] = "DNSKEY", [52] = "TLSA", [64] = "SVCB", [65] = "HTTPS", [251] = "IXFR", [252] = "AXFR", [255] = "ANY",
        [257] = "CAA",
    };

    private static readonly HashSet<string> TypeNames = [.. Types.Values, Other];

    /// <summary>The mnemonic of a query type, or <see cref="Other"/>.</summary>
    public static string Type(ushort type) => Types.GetValueOrDefault(type, Other);

    /// <summary>The mnemonic of a response code, or <see cref="Other"/>.</summary>
    public static string Rcode(int rcode) => rcode < Rcodes.Length ? Rcodes[rcode] : Other;

    /// <summary>The shared tag value of an operation: a known type's mnemonic, anything else <see cref="Other"/>.</summary>
    public static string CanonicalType(string operation) => TypeNames.TryGetValue(operation, out var known) ? known : Other;
}
