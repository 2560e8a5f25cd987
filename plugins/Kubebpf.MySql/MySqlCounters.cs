using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.MySql;

/// <summary>The MySQL parser's self-metrics: what it emitted, what it left unparsed on purpose, and every loss.</summary>
internal sealed class MySqlCounters(IAgentMetrics metrics)
{
    public Counter Exchanges { get; } = metrics.Counter("exchanges", "commands paired with their answers, emitted (not a loss)");

    public Counter Desyncs { get; } = metrics.Counter(
        "desyncs", "loss: a side lost its packet framing (bytes never seen where a packet header was, or a command answered before its announced bytes came); it resynchronises at the next command");

    public Counter RowGaps { get; } = metrics.Counter(
        "row_gaps", "bytes not captured inside the rows of a result set, rows there estimated (not a lost exchange: it is marked truncated)");

    public Counter InvalidPackets { get; } = metrics.Counter(
        "invalid_packets", "loss: packets that cannot be what the protocol expects there (not MySQL, or lying lengths); that side resynchronises");

    public Counter UnmatchedResponses { get; } = metrics.Counter(
        "unmatched_responses", "loss: server packets with no command waiting (connection older than the capture, or the command lost), skipped");

    public Counter UnansweredCommands { get; } = metrics.Counter(
        "unanswered_commands", "loss: commands dropped without an answer (connection ended, or the answer's start was not captured)");

    public Counter PipelineOverflow { get; } = metrics.Counter(
        "pipeline_overflow", "loss: commands dropped because MaxPipelinedCommands were already waiting on their connection");

    public Counter TruncatedExchanges { get; } = metrics.Counter(
        "truncated_exchanges", "exchanges emitted with bytes not captured: their row count is estimated or a lower bound, or their fingerprint a prefix (not a lost exchange)");

    public Counter UnknownStatements { get; } = metrics.Counter(
        "unknown_statements", "executions of a prepared statement whose PREPARE was not seen (connection older than the capture, or beyond MaxPreparedStatements)");

    public Counter PreparedOverflow { get; } = metrics.Counter(
        "prepared_overflow", "prepared statements not remembered because MaxPreparedStatements were held on their connection");

    public Counter CommandsWithoutAnswer { get; } = metrics.Counter(
        "commands_without_answer", "COM_QUIT, COM_STMT_CLOSE and COM_STMT_SEND_LONG_DATA seen: the server does not answer them, no exchange (not a loss)");

    public Counter TlsConnections { get; } = metrics.Counter(
        "tls_connections", "connections that switched to TLS (SSLRequest): marked and not parsed further (not a loss)");

    public Counter CompressedConnections { get; } = metrics.Counter(
        "compressed_connections", "connections that negotiated the compressed protocol: marked and not parsed further (not a loss)");
}
