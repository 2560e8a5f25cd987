namespace Kubebpf.ServiceMap.Aggregation;

/// <summary>One graph edge's figures in a window: its calls of every protocol and its connections on every port.</summary>
internal sealed class PairTotals
{
    public long Requests { get; set; }

    /// <summary>Calls that failed on the server's side or timed out.</summary>
    public long Errors { get; set; }

    public long DurationSumNs { get; set; }

    public long Connects { get; set; }

    public long FailedConnects { get; set; }

    public long Bytes { get; set; }

    public long Retransmissions { get; set; }

    public long Active { get; set; }

    public void Add(CallStats calls)
    {
        Requests += calls.Requests;
        Errors += calls.Errors + calls.Timeouts;
        DurationSumNs += calls.DurationSumNs;
    }

    public void Add(ConnectionStats connections)
    {
        Connects += connections.Connects;
        FailedConnects += connections.Refused + connections.TimedOut;
        Bytes += connections.BytesSent + connections.BytesReceived;
        Retransmissions += connections.Retransmissions;
        Active += connections.Active;
    }
}
