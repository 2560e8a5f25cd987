using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Dns;

/// <summary>The DNS parser's self-metrics: what it emitted, and every way a query or an answer can be lost or distorted.</summary>
internal sealed class DnsCounters(IAgentMetrics metrics)
{
    public Counter Exchanges { get; } = metrics.Counter("exchanges", "queries paired with their answers or timed out, emitted (not a loss)");

    public Counter Timeouts { get; } = metrics.Counter("timeouts", "queries unanswered within Timeout, emitted with status TIMEOUT (not a loss: the resolver's)");

    public Counter SearchExpansions { get; } = metrics.Counter(
        "search_expansions", "negative answers for a search-path candidate followed by the client's next candidate, marked search_expansion (not a loss)");

    public Counter RetransmittedQueries { get; } = metrics.Counter(
        "retransmitted_queries", "queries sent again with an id still pending on their flow; the first send times the exchange (not a loss)");

    public Counter MalformedMessages { get; } = metrics.Counter(
        "malformed_messages", "loss: messages not parsed (shorter than a header, no question, labels over 63 bytes, names over 255, pointer loops, cut records)");

    public Counter UnmatchedAnswers { get; } = metrics.Counter(
        "unmatched_answers", "loss: answers without a pending query on their flow (a duplicate answer, a query older than the capture, or one already timed out)");

    public Counter UnansweredQueries { get; } = metrics.Counter(
        "unanswered_queries", "loss: queries dropped when their flow ended before the answer or the timeout (shutdown, eviction)");

    public Counter PendingOverflow { get; } = metrics.Counter(
        "pending_overflow", "loss: queries dropped because MaxPendingQueries were already waiting on their flow");

    public Counter Desyncs { get; } = metrics.Counter(
        "desyncs", "loss: TCP streams that lost bytes; what was buffered is dropped and parsing restarts at the next segment");

    public Counter NamesDropped { get; } = metrics.Counter(
        "names_dropped", "answered addresses not learned because MaxLearnedNames unexpired names were held");

    public Counter ExpansionsUntracked { get; } = metrics.Counter(
        "expansions_untracked", "negative answers for search-path candidates counted as they are because MaxExpansionClients clients were waiting");
}
