using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Http.Tracking;

/// <summary>The tracker's self-metrics: one counter per way an exchange can be lost or distorted.</summary>
internal sealed class HttpTrackerCounters(IAgentMetrics metrics)
{
    public Counter Exchanges { get; } = metrics.Counter("exchanges", "request/response pairs emitted");
    public Counter Desyncs { get; } = metrics.Counter("desyncs", "times a stream lost its place (lost or uncaptured bytes where a head or chunk line was)");
    public Counter UnmatchedResponses { get; } = metrics.Counter("unmatched_responses", "responses without a pending request, dropped");
    public Counter UnansweredRequests { get; } = metrics.Counter("unanswered_requests", "requests dropped without a response (connection ended, evicted or desynced)");
    public Counter EvictedConnections { get; } = metrics.Counter("evicted_connections", "connections dropped for idleness or to respect MaxConnections");
    public Counter OversizedHeads { get; } = metrics.Counter("oversized_heads", "heads longer than MaxHeadBytes, not parsed");
    public Counter InvalidHeads { get; } = metrics.Counter("invalid_heads", "malformed heads on connections that were HTTP");
    public Counter PipelineOverflow { get; } = metrics.Counter("pipeline_overflow", "requests dropped because MaxPipelinedRequests were already waiting");
    public Counter Retransmissions { get; } = metrics.Counter("retransmissions", "segments (or their starts) seen before, ignored");
    public Counter NonHttpConnections { get; } = metrics.Counter("non_http_connections", "connections whose first segment was not HTTP (ignored, not a loss)");
}
