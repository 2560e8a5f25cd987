using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Capture.Flows;

/// <summary>The flow layer's self-metrics; each description says whether a count is a loss.</summary>
internal sealed class FlowCounters(IAgentMetrics metrics)
{
    public Counter Exchanges { get; } = metrics.Counter("exchanges", "exchanges published, all protocols (not a loss)");
    public Counter Retransmissions { get; } = metrics.Counter("retransmissions", "TCP segments (or their starts) seen before, ignored (not a loss)");
    public Counter StreamGaps { get; } = metrics.Counter("stream_gaps", "times bytes of a parsed TCP stream were skipped (records lost in the kernel, or a segment that came after its successors): a loss where the parser needed them, which its own counters show");
    public Counter BufferOverflows { get; } = metrics.Counter("buffer_overflows", "times a parser's unconsumed bytes outgrew its protocol's buffer and were dropped (a loss)");
    public Counter UnclassifiedFlows { get; } = metrics.Counter("unclassified_flows", "TCP connections with payload that no protocol claimed, such as TLS (not a loss)");
    public Counter LateClassifiedFlows { get; } = metrics.Counter("late_classified_flows", "connections seen from their start that a protocol claimed only after earlier payload was refused: that payload was not parsed (a loss)");
    public Counter UnclassifiedDatagrams { get; } = metrics.Counter("unclassified_datagrams", "UDP datagrams of flows no protocol claimed (not a loss)");
    public Counter IdleFlows { get; } = metrics.Counter("idle_flows", "flows closed after their idle timeout (not a loss; what their parsers still held is counted by them)");
    public Counter EvictedFlows { get; } = metrics.Counter("evicted_flows", "flows closed early to respect MaxFlows (a loss where they were still active)");
    public Counter UntrackedControl { get; } = metrics.Counter("untracked_fin_rst", "FIN or RST segments without payload of connections not tracked, ignored without keeping state: a RST storm, or the end of a connection closed earlier (not a loss)");
    public Counter ParserFailures { get; } = metrics.Counter("parser_failures", "protocols disabled because their parser threw (their plugin instance is reported failed)");
}
