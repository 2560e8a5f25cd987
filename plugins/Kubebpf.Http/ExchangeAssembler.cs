using Kubebpf.Http.Capture;
using Kubebpf.Http.Tracking;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Http;

/// <summary>
/// Between the capture and the event bus: tracks segments, names each exchange as the tracker completes it
/// (interface, observed workload, peer) and publishes what a drained batch completed in one call. Single-threaded
/// (the capture thread).
/// </summary>
internal sealed class ExchangeAssembler : ISegmentConsumer, IExchangeNamer
{
    private readonly List<HttpExchange> _completed = new(256);
    private readonly IEventPublisher<HttpExchange> _publisher;
    private readonly IWorkloadResolver _resolver;
    private string _interface = "";

    public ExchangeAssembler(
        HttpTrackerOptions options, IAgentMetrics metrics, long monotonicToUnixOffsetNs, IEventPublisher<HttpExchange> publisher, IWorkloadResolver resolver)
    {
        _publisher = publisher;
        _resolver = resolver;
        Tracker = new HttpConnectionTracker(options, metrics, monotonicToUnixOffsetNs, namer: this);
    }

    /// <summary>Raised on the capture thread after each batch was published: the place for periodic housekeeping.</summary>
    public event Action? BatchEnded;

    public HttpConnectionTracker Tracker { get; }

    public void OnSegment(in SegmentHeader header, ReadOnlySpan<byte> payload, bool towardsEndpoint, string interfaceName)
    {
        _interface = interfaceName;
        Tracker.OnSegment(header, payload, towardsEndpoint, _completed);
    }

    public void OnBatchEnd()
    {
        Publish();
        BatchEnded?.Invoke();
    }

    /// <summary>Ends idle connections (their pending exchanges are counted by the tracker) and publishes what they completed.</summary>
    public void EvictIdle(long nowMonotonicNs)
    {
        Publish();
        _interface = ""; // not segment-driven: exchanges ended by eviction resolve by endpoint alone
        Tracker.EvictIdle(nowMonotonicNs, _completed);
        Publish();
    }

    /// <summary>The interface of the segment being processed; the workload behind it, else the one owning the local endpoint.</summary>
    public ExchangeNames Name(in NetworkEndpoint local, in NetworkEndpoint remote) =>
        new(_interface,
            (_interface.Length > 0 ? _resolver.ResolveInterface(_interface) : null) ?? _resolver.ResolveEndpoint(local),
            _resolver.ResolveEndpoint(remote));

    private void Publish()
    {
        if (_completed.Count > 0)
        {
            _publisher.Publish(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_completed));
            _completed.Clear();
        }
    }
}
