using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Http;

/// <summary>The HTTP parser's self-metrics: what it emitted, and every way an exchange can be lost or distorted.</summary>
internal sealed class HttpCounters(IAgentMetrics metrics)
{
    public Counter Exchanges { get; } = metrics.Counter("exchanges", "request/response pairs emitted (not a loss)");

    public Counter Desyncs { get; } = metrics.Counter(
        "desyncs", "loss: a stream lost its place (bytes never seen where a head or chunk-size line was); it resynchronises on the next start line");

    public Counter UnmatchedResponses { get; } = metrics.Counter(
        "unmatched_responses", "loss: responses without a pending request (connection older than the capture, or its request lost), dropped");

    public Counter UnansweredRequests { get; } = metrics.Counter(
        "unanswered_requests", "loss: requests dropped without a response (connection ended, or the response stream desynced)");

    public Counter OversizedHeads { get; } = metrics.Counter(
        "oversized_heads", "loss: heads longer than MaxHeadBytes, not parsed (the start line is still paired)");

    public Counter InvalidHeads { get; } = metrics.Counter("invalid_heads", "loss: malformed heads on HTTP connections, not parsed");

    public Counter PipelineOverflow { get; } = metrics.Counter(
        "pipeline_overflow", "loss: requests dropped because MaxPipelinedRequests were already waiting on their connection");

    public Counter Tunnels { get; } = metrics.Counter(
        "tunnels", "connections that became tunnels (2xx to CONNECT, 101 Switching Protocols): not parsed further, not a loss");
}
