using Kubebpf.Capture.Capture;
using Kubebpf.Testing;

namespace Kubebpf.Http.Tests;

/// <summary>
/// The conformance corpus (<see cref="ConformanceCorpus"/>, replayed between real pods by the integration tests)
/// through the capture's flow tracker alone: each connection as the capture delivers it (records of at most 4 KiB, the
/// client's and the server's writes in turn, each copied as HTTP's message starts decide), so that a misread entry is
/// named here, with its exact method token.
/// </summary>
public sealed class ConformanceCorpusTests
{
    private const int RecordBytes = 4096;

    private static readonly WholeSegmentRule WholeSegments = WholeSegmentRule.For([HttpProtocol.Starts]);

    private static readonly string[] LossCounters =
        ["desyncs", "unmatched_responses", "unanswered_requests", "invalid_heads", "oversized_heads", "pipeline_overflow", "tunnels"];

    [Fact]
    public void The_corpus_has_at_least_250_distinct_exchanges_on_every_kind_of_connection()
    {
        var corpus = ConformanceCorpus.Load(); // it rejects duplicate requests
        Assert.True(corpus.Entries.Count >= 250, $"{corpus.Entries.Count} entries");
        Assert.Contains(corpus.Connections, c => c.Pipelined);
        Assert.Contains(corpus.Connections, c => !c.Pipelined && c.Entries.Count > 1);
        Assert.Contains(corpus.Connections, c => c.Entries.Count == 1);
        Assert.Contains(corpus.Entries, e => e.MethodTag == "OTHER");
        Assert.Equal(["2xx", "3xx", "4xx", "5xx"], corpus.Entries.Select(e => $"{e.FinalStatus / 100}xx").Distinct().Order());
        Assert.Contains(corpus.Entries, e => e.Response.AsSpan().StartsWith("HTTP/1.1 1"u8)); // interim responses first
    }

    [Fact]
    public void Every_corpus_exchange_is_parsed_once_with_its_method_path_and_status()
    {
        var corpus = ConformanceCorpus.Load();
        var misread = new List<string>();
        foreach (var connection in corpus.Connections)
        {
            var entries = connection.Entries.Select(id => corpus.Entries[id]).ToList();
            var conversation = Replay(connection, entries);
            var expected = entries.Select(e => $"{e.Method} {e.Path} {e.FinalStatus}").ToList();
            var parsed = conversation.Exchanges.Select(e => $"{e.Operation} {e.Resource} {e.Code}").ToList();
            var losses = LossCounters.Where(c => conversation.Metrics.Value(c) != 0).Select(c => $"{c}={conversation.Metrics.Value(c)}").ToList();
            if (!parsed.SequenceEqual(expected) || losses.Count > 0 || conversation.Failures.Count > 0)
            {
                misread.Add($"{string.Join(", ", entries)}: parsed [{string.Join(", ", parsed)}] {string.Join(' ', losses)} {string.Join(' ', conversation.Failures)}");
            }
        }

        Assert.True(misread.Count == 0, $"{misread.Count} connections misread:\n" + string.Join('\n', misread));
    }

    /// <summary>One connection of the corpus: requests and responses in turn (or all requests first), then both FINs.</summary>
    private static Conversation Replay(CorpusConnection connection, List<CorpusEntry> entries)
    {
        var conversation = new Conversation();
        var time = 1000L;
        if (connection.Pipelined)
        {
            Write(conversation, fromClient: true, [.. entries.SelectMany(e => e.Request)], ref time);
        }

        foreach (var entry in entries)
        {
            if (!connection.Pipelined)
            {
                Write(conversation, fromClient: true, entry.Request, ref time);
            }

            Write(conversation, fromClient: false, entry.Response, ref time);
        }

        conversation.Send(fromClient: false, [], time++, flags: PacketHeader.Fin);
        conversation.Send(fromClient: true, [], time, flags: PacketHeader.Fin);
        return conversation;
    }

    /// <summary>
    /// One write of a side, as one segment in the records the capture would make of it: whole, or (longer than those
    /// copied whole and not starting with one of HTTP's message starts) its two ends, the first standing for the bytes
    /// between.
    /// </summary>
    private static void Write(Conversation conversation, bool fromClient, byte[] bytes, ref long time)
    {
        var end = WholeSegments.BodyEndBytes;
        if (bytes.Length > WholeSegmentRule.WholeSegmentBytes && !WholeSegments.CopiesWhole(bytes))
        {
            conversation.Send(fromClient, bytes.AsSpan(0, end), time, payloadLength: bytes.Length - end);
            conversation.Send(fromClient, bytes.AsSpan(bytes.Length - end), time++);
            return;
        }

        for (var offset = 0; offset < bytes.Length; offset += RecordBytes)
        {
            conversation.Send(fromClient, bytes.AsSpan(offset, Math.Min(RecordBytes, bytes.Length - offset)), time++);
        }
    }
}
