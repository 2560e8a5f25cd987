using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Sdk.Events;

/// <summary>
/// What one TCP connection did since its previous report, whatever its protocol (TLS and databases included), as
/// seen from one observed workload: the connection layer (L4) of the service map. The capture publishes one report
/// per connection when its handshake is decided (connected, refused, timed out), about every few seconds while it
/// carries bytes, and one when it ends, so that sums of the deltas over any time range are that range's totals.
/// Published as <see cref="Pipeline.IEventPublisher{T}"/> batches; only valid as a value copy.
/// </summary>
public readonly record struct TcpConnectionReport
{
    /// <summary>The side that sent the first SYN, or (for a connection seen mid-stream) the side a protocol named client, else the side with the higher port.</summary>
    public required NetworkEndpoint Client { get; init; }

    /// <summary>The side that was connected to.</summary>
    public required NetworkEndpoint Server { get; init; }

    /// <summary>In: the observed workload is the server; out: it is the client.</summary>
    public required TrafficDirection Direction { get; init; }

    /// <summary>The interface the connection is seen on.</summary>
    public required string Interface { get; init; }

    /// <summary>The observed workload (server for <see cref="TrafficDirection.In"/>, client for Out), or null when unknown.</summary>
    public WorkloadIdentity? Workload { get; init; }

    /// <summary>The other side, or null when it does not resolve.</summary>
    public WorkloadIdentity? Peer { get; init; }

    /// <summary>When the report was made, nanoseconds since the Unix epoch.</summary>
    public required long ReportUnixNs { get; init; }

    /// <summary>The connection's first report: with <see cref="Closed"/>, it lets a subscriber count the connections open.</summary>
    public bool Opened { get; init; }

    /// <summary>The connection's last report: it ended (FIN both ways, RST, idle timeout, evicted, agent stopping).</summary>
    public bool Closed { get; init; }

    /// <summary>The server answered the client's SYN with a SYN-ACK since the previous report: one successful connect.</summary>
    public bool Connected { get; init; }

    /// <summary>The server answered the client's SYN with a RST: one connect refused (a closed port).</summary>
    public bool Refused { get; init; }

    /// <summary>The client's SYN went unanswered for the capture's handshake timeout: one connect timed out (dropped, or no host).</summary>
    public bool TimedOut { get; init; }

    /// <summary>From the client's first SYN to the server's SYN-ACK when <see cref="Connected"/> and the SYN was seen, else 0.</summary>
    public long ConnectTimeNs { get; init; }

    /// <summary>TCP payload bytes the client sent since the previous report, retransmissions not counted.</summary>
    public long ClientBytes { get; init; }

    /// <summary>TCP payload bytes the server sent since the previous report, retransmissions not counted.</summary>
    public long ServerBytes { get; init; }

    /// <summary>Segments (or their starts) the client sent again since the previous report.</summary>
    public int ClientRetransmissions { get; init; }

    /// <summary>Segments (or their starts) the server sent again since the previous report.</summary>
    public int ServerRetransmissions { get; init; }

    /// <summary>The observed workload's own endpoint.</summary>
    public NetworkEndpoint Local => Direction == TrafficDirection.In ? Server : Client;

    /// <summary>The other side's endpoint.</summary>
    public NetworkEndpoint Remote => Direction == TrafficDirection.In ? Client : Server;
}
