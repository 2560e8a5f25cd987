using Kubebpf.Dns.Parsing;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Dns;

/// <summary>
/// DNS as the R.E.D. plugin and the call log name it: <c>dns_requests</c> and <c>dns_red</c>, both tagged by query type
/// (<c>qtype</c>) and response code (<c>rcode</c>), with the query name as a call-log field and, capped per workload,
/// as the R.E.D. tag <c>qname</c>.
/// </summary>
public static class DnsProtocolDescriptor
{
    /// <summary>The one descriptor every DNS exchange carries.</summary>
    public static ProtocolDescriptor Instance { get; } = new("dns")
    {
        OperationTag = "qtype",
        ResourceTag = "qname",
        ResourceField = "qname",
        StatusTag = "rcode",
        RedGroupsByStatus = true,
        CodeField = "rcode_value",
        CanonicalOperation = DnsNames.CanonicalType,
        NormalizeResource = QueryNames.Normalize,
        MaxResourceLength = QueryNames.MaxTagLength,
        DetailFields =
        [
            new("transport", FieldKind.String, "", "udp or tcp."),
            new("answers", FieldKind.Integer, "", "Answer records (ANCOUNT); 0 for a timeout."),
            new("truncated", FieldKind.Boolean, "", "TC flag: the answer was cut to fit UDP (the client retries over TCP)."),
            new("address", FieldKind.String, "", "First A or AAAA address answered; omitted when none.", Required: false),
            new("search_expansion", FieldKind.Boolean, "",
                "A negative answer for a search-path candidate the client followed with its next candidate: not an error."),
        ],
    };
}

/// <summary>What a DNS exchange adds to the common model. Immutable.</summary>
/// <param name="Transport"><c>udp</c> or <c>tcp</c>.</param>
/// <param name="Answers">Answer records.</param>
/// <param name="Truncated">The TC flag.</param>
/// <param name="Address">The first A or AAAA address answered, or null.</param>
/// <param name="SearchExpansion">A search-path candidate's negative answer followed by the next candidate.</param>
public sealed record DnsDetails(string Transport, int Answers, bool Truncated, string? Address, bool SearchExpansion) : IExchangeDetails
{
    /// <summary>The details of a query that timed out on a flow of <paramref name="transport"/>.</summary>
    internal static DnsDetails TimedOut(string transport) => transport == "tcp" ? TcpTimeout : UdpTimeout;

    private static readonly DnsDetails UdpTimeout = new("udp", 0, false, null, false);
    private static readonly DnsDetails TcpTimeout = new("tcp", 0, false, null, false);

    /// <inheritdoc />
    public int FieldCount => Address is null ? 4 : 5;

    /// <inheritdoc />
    public void WriteFields(Span<Field> destination)
    {
        destination[0] = new("transport", FieldValue.String(Transport));
        destination[1] = new("answers", FieldValue.Integer(Answers));
        destination[2] = new("truncated", FieldValue.Boolean(Truncated));
        destination[3] = new("search_expansion", FieldValue.Boolean(SearchExpansion));
        if (Address is not null)
        {
            destination[4] = new("address", FieldValue.String(Address));
        }
    }
}
