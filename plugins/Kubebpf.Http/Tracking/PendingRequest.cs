using Kubebpf.Sdk.Events;

namespace Kubebpf.Http.Tracking;

/// <summary>A request waiting for its response: what the exchange needs from the request side.</summary>
internal struct PendingRequest
{
    public long Id;
    public long StartNs;
    public string Method;
    public string Path;
    public string? Query;
    public string Version;
    public string? Host;
    public long BodyBytes;
    public TrafficDirection Direction;
    public bool IsHead;
    public bool IsConnect;
    public bool ClosesConnection;
}
