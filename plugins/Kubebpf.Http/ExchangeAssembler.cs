using Kubebpf.Http.Capture;
using Kubebpf.Http.Tracking;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Http;

/// <summary>
/// Between the capture and the event bus: tracks segments, names each completed exchange (interface, observed
/// workload, peer) and publishes what a drained batch completed in one call. Single-threaded (the capture thread).
/// </summary>
internal sealed class ExchangeAssembler(HttpConnectionTracker tracker, IEventPublisher<HttpExchange> publisher, IWorkloadResolver resolver)
    : ISegmentConsumer
{
    private readonly List<HttpExchange> _completed = new(256);
    private int _named;
    private string _interface = "";

    /// <summary>Raised on the capture thread after each batch was published: the place for periodic housekeeping.</summary>
    public event Action? BatchEnded;

    public void OnSegment(in SegmentHeader header, ReadOnlySpan<byte> payload, bool towardsEndpoint, string interfaceName)
    {
        _interface = interfaceName;
        tracker.OnSegment(header, payload, towardsEndpoint, _completed);
        NameCompleted();
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
        tracker.EvictIdle(nowMonotonicNs, _completed);
        NameCompleted();
        Publish();
    }

    private void NameCompleted()
    {
        for (; _named < _completed.Count; _named++)
        {
            var exchange = _completed[_named];
            _completed[_named] = exchange with
            {
                Interface = _interface,
                Workload = (_interface.Length > 0 ? resolver.ResolveInterface(_interface) : null) ?? resolver.ResolveEndpoint(exchange.Local),
                Peer = resolver.ResolveEndpoint(exchange.Remote),
            };
        }
    }

    private void Publish()
    {
        if (_completed.Count > 0)
        {
            publisher.Publish(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_completed));
            _completed.Clear();
            _named = 0;
        }
    }
}
