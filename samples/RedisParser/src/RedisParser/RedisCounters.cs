using Kubebpf.Sdk.Pipeline;

namespace RedisParser;

/// <summary>What the parsers of one plugin instance count, written in the agent's <c>kubebpf_agent</c> point.</summary>
internal sealed class RedisCounters(IAgentMetrics metrics)
{
    public Counter Exchanges { get; } = metrics.Counter("exchanges", "commands paired with their reply and emitted");

    public Counter Desyncs { get; } = metrics.Counter("desyncs", "times a connection lost its place: bytes that are not RESP, or a gap outside a bulk string");

    public Counter UnmatchedReplies { get; } = metrics.Counter("unmatched_replies", "replies with no command waiting for them (the connection predates the capture, or pairing was lost)");

    public Counter UnansweredCommands { get; } = metrics.Counter("unanswered_commands", "commands never paired: still waiting at close, or dropped when a desync lost the pairing");

    public Counter UntrackedCommands { get; } = metrics.Counter("untracked_commands", "commands beyond MaxPipelinedCommands: their replies are skipped, not paired");

    public Counter PushMessages { get; } = metrics.Counter("push_messages", "RESP3 push messages (out-of-band, never a reply) skipped");

    public Counter UnpairedConnections { get; } = metrics.Counter("unpaired_connections", "connections that stopped pairing at SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE or MONITOR (a stream of messages follows, not replies)");
}
