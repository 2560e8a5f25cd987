using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Sdk.Events;

/// <summary>Which side of a call the observed workload is on.</summary>
public enum TrafficDirection
{
    /// <summary>The observed workload served the request.</summary>
    In,

    /// <summary>The observed workload made the request.</summary>
    Out,
}

/// <summary>The transport an exchange travelled over.</summary>
public enum Transport : byte
{
    /// <summary>A TCP connection.</summary>
    Tcp,

    /// <summary>UDP datagrams.</summary>
    Udp,
}

/// <summary>How a request ended, in the terms R.E.D. counts.</summary>
public enum ExchangeOutcome : byte
{
    /// <summary>Answered without an error.</summary>
    Success,

    /// <summary>Refused as the client's fault (HTTP 4xx and the like): counted apart from errors.</summary>
    ClientError,

    /// <summary>Failed on the server's side (HTTP 5xx, a Redis error reply, SERVFAIL, a MySQL error).</summary>
    Error,

    /// <summary>No answer came within the protocol's timeout.</summary>
    Timeout,
}

/// <summary>
/// One request paired with its answer, of any protocol, as seen from one observed workload: what every protocol
/// parser produces and what R.E.D., the call log, the console and the service map read without knowing the protocol.
/// Published by the capture as <see cref="Pipeline.IEventPublisher{T}"/> batches. Strings are shared where possible;
/// the struct is only valid as a value copy.
/// </summary>
public readonly record struct Exchange
{
    /// <summary>The protocol, and how its exchanges are named in measurements.</summary>
    public required ProtocolDescriptor Protocol { get; init; }

    /// <summary>What was asked: an HTTP method, a Redis command, a DNS query type, a SQL command.</summary>
    public required string Operation { get; init; }

    /// <summary>What it was asked of, as sent: an HTTP path, a DNS name, a statement fingerprint; empty when the protocol has none.</summary>
    public required string Resource { get; init; }

    /// <summary>The protocol's numeric answer (HTTP status, DNS rcode, MySQL error number), or -1 when it has none.</summary>
    public required int Code { get; init; }

    /// <summary>A low-cardinality class of the answer, for tags (<c>2xx</c>, <c>error</c>, <c>NXDOMAIN</c>).</summary>
    public required string Status { get; init; }

    /// <summary>How the request ended, for error counting.</summary>
    public required ExchangeOutcome Outcome { get; init; }

    /// <summary>When the first byte of the request was seen, nanoseconds since the Unix epoch.</summary>
    public required long StartUnixNs { get; init; }

    /// <summary>From the first byte of the request to the first byte of the answer (or to the timeout), in nanoseconds.</summary>
    public required long DurationNs { get; init; }

    /// <summary>Request payload bytes (an HTTP body, say), or -1 when unknown.</summary>
    public long RequestBytes { get; init; }

    /// <summary>Answer payload bytes, or -1 when unknown.</summary>
    public long ResponseBytes { get; init; }

    /// <summary>TCP or UDP.</summary>
    public required Transport Transport { get; init; }

    /// <summary>The client side.</summary>
    public required NetworkEndpoint Client { get; init; }

    /// <summary>The server side.</summary>
    public required NetworkEndpoint Server { get; init; }

    /// <summary>In: the observed workload served it; out: it called someone.</summary>
    public required TrafficDirection Direction { get; init; }

    /// <summary>The interface the exchange was seen on, or empty.</summary>
    public required string Interface { get; init; }

    /// <summary>The observed workload (server for <see cref="TrafficDirection.In"/>, client for Out), or null when unknown.</summary>
    public WorkloadIdentity? Workload { get; init; }

    /// <summary>The other side of the call, or null when it does not resolve.</summary>
    public WorkloadIdentity? Peer { get; init; }

    /// <summary>Protocol-specific details (HTTP version and Host, say), or null.</summary>
    public IExchangeDetails? Details { get; init; }

    /// <summary>The observed workload's own endpoint.</summary>
    public NetworkEndpoint Local => Direction == TrafficDirection.In ? Server : Client;

    /// <summary>The other side's endpoint.</summary>
    public NetworkEndpoint Remote => Direction == TrafficDirection.In ? Client : Server;
}
