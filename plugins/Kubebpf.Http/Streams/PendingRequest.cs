namespace Kubebpf.Http.Streams;

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

    /// <summary>Content-Length or chunked total; -1 when unknown.</summary>
    public long BodyBytes;
    public bool IsHead;
    public bool IsConnect;
}
