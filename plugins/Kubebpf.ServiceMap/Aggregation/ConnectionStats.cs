using Kubebpf.Sdk.Events;

namespace Kubebpf.ServiceMap.Aggregation;

/// <summary>
/// The connections of one edge: per-window deltas (connects, failures, bytes, retransmissions, connect time) and the
/// connections open now, which outlives windows. Not thread-safe.
/// </summary>
internal sealed class ConnectionStats
{
    public long Connects { get; private set; }

    public long Refused { get; private set; }

    public long TimedOut { get; private set; }

    public long ConnectTimeSumNs { get; private set; }

    public long ConnectTimeCount { get; private set; }

    public long ConnectTimeMaxNs { get; private set; }

    /// <summary>Payload bytes from source to target.</summary>
    public long BytesSent { get; private set; }

    /// <summary>Payload bytes from target to source.</summary>
    public long BytesReceived { get; private set; }

    public long Retransmissions { get; private set; }

    /// <summary>Connections opened and not closed yet (reports since the first of each, minus those that ended).</summary>
    public long Active { get; private set; }

    /// <summary>Something happened in the window, or connections are still open.</summary>
    public bool HasNews => Connects + Refused + TimedOut + BytesSent + BytesReceived + Retransmissions > 0;

    public void Record(in TcpConnectionReport report)
    {
        Connects += report.Connected ? 1 : 0;
        Refused += report.Refused ? 1 : 0;
        TimedOut += report.TimedOut ? 1 : 0;
        if (report.Connected && report.ConnectTimeNs > 0)
        {
            ConnectTimeSumNs += report.ConnectTimeNs;
            ConnectTimeCount++;
            ConnectTimeMaxNs = Math.Max(ConnectTimeMaxNs, report.ConnectTimeNs);
        }

        BytesSent += report.ClientBytes;
        BytesReceived += report.ServerBytes;
        Retransmissions += report.ClientRetransmissions + report.ServerRetransmissions;
        Active += (report.Opened ? 1 : 0) - (report.Closed ? 1 : 0);
    }

    /// <summary>Starts the next window; the open connections stay.</summary>
    public void ResetWindow()
    {
        Connects = Refused = TimedOut = 0;
        ConnectTimeSumNs = ConnectTimeCount = ConnectTimeMaxNs = 0;
        BytesSent = BytesReceived = Retransmissions = 0;
        Active = Math.Max(Active, 0); // a connection opened under another name (metadata changed meanwhile) never goes below zero here
    }
}
