using System.Text;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;
using static RedisParser.Tests.Resp;

namespace RedisParser.Tests;

public sealed class RedisConnectionParserTests
{
    // Each command, its reply, and what the exchange must say. Covers the RESP2 and RESP3 reply types, nesting, an
    // attribute, an inline command, a null, errors (line and bulk) and an unknown command.
    private static readonly (string Command, string Reply, string Exchange)[] Conversation =
    [
        (Command("SET", "user:1", "alice"), "+OK\r\n", "SET ok Success simple_string"),
        (Command("get", "user:1"), "$5\r\nalice\r\n", "GET ok Success bulk_string"),
        ("PING\r\n", "+PONG\r\n", "PING ok Success simple_string"),
        (Command("INCR", "user:1"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "INCR WRONGTYPE Error error"),
        (Command("LRANGE", "list", "0", "-1"), "*3\r\n$1\r\na\r\n*2\r\n:1\r\n_\r\n$0\r\n\r\n", "LRANGE ok Success array"),
        (Command("HGETALL", "h"), "|1\r\n+ttl\r\n:3600\r\n%2\r\n+f1\r\n,3.14\r\n+f2\r\n#t\r\n", "HGETALL ok Success map"),
        (Command("GET", "missing"), "$-1\r\n", "GET ok Success null"),
        (Command("EXEC"), "*2\r\n+OK\r\n-ERR EXEC without MULTI\r\n", "EXEC ok Success array"),
        (Command("FROBNICATE"), "-ERR unknown command 'FROBNICATE', with args beginning with: \r\n", "OTHER ERR Error error"),
        (Command("OBJECT", "FREQ", "k"), "!21\r\nSYNTAX invalid syntax\r\n", "OBJECT error Error bulk_error"),
    ];

    // Pipelined: every command in one write, then every reply in one write.
    private static readonly string Commands = string.Concat(Conversation.Select(c => c.Command));
    private static readonly string Replies = string.Concat(Conversation.Select(c => c.Reply));
    private static readonly string[] Expected = [.. Conversation.Select(c => $"{c.Exchange} {c.Command.Length}/{c.Reply.Length}")];

    [Fact]
    public void A_command_pairs_with_its_reply_with_times_sizes_and_no_resource()
    {
        var capture = new Capture()
            .Client(Command("SET", "k", "v"), 1_000)
            .Server("+OK\r\n", 1_500);

        var exchange = Assert.Single(capture.Exchanges);
        Assert.Equal(
            new ParsedExchange
            {
                Operation = "SET", Resource = "", Code = -1, Status = "ok", Outcome = ExchangeOutcome.Success, StartNs = 1_000, DurationNs = 500,
                RequestBytes = 27, ResponseBytes = 5, Details = exchange.Details,
            },
            exchange);
        Assert.Equal("simple_string", ((RedisReplyDetails)exchange.Details!).ReplyType);
        Assert.Equal(new Dictionary<string, long> { ["exchanges"] = 1 }, capture.Metrics.NonZero);
    }

    [Fact]
    public void Pipelined_commands_pair_in_order_and_each_starts_1_ns_after_the_one_before()
    {
        var capture = new Capture().Client(Commands, 1_000).Server(Replies, 5_000);

        Assert.Equal(Expected, Summary(capture.Exchanges));
        Assert.Equal(Enumerable.Range(0, Expected.Length).Select(i => 1_000L + i), capture.Exchanges.Select(e => e.StartNs));
        Assert.Equal(Enumerable.Range(0, Expected.Length).Select(i => 4_000L - i), capture.Exchanges.Select(e => e.DurationNs));
        Assert.Equal(new Dictionary<string, long> { ["exchanges"] = Expected.Length }, capture.Metrics.NonZero);
        Assert.Equal(0, capture.MostKept);
    }

    [Fact]
    public void Commands_split_at_every_byte_pair_the_same_and_start_when_their_first_byte_came()
    {
        var commands = Encoding.UTF8.GetBytes(Commands);
        var starts = CommandOffsets(commands);
        for (var split = 1; split < commands.Length; split++)
        {
            var capture = new Capture()
                .Send(StreamSide.Client, commands[..split], 1_000)
                .Send(StreamSide.Client, commands[split..], 2_000)
                .Server(Replies, 5_000);

            Assert.Equal(Expected, Summary(capture.Exchanges));
            var expectedStarts = new List<long>();
            foreach (var offset in starts)
            {
                // A command is dated by the segment holding its first byte, or by the kept bytes' segment when the
                // parser kept it whole (an unfinished first line).
                var segment = offset < split ? 1_000L : 2_000L;
                expectedStarts.Add(expectedStarts.Count == 0 ? segment : Math.Max(segment, expectedStarts[^1] + 1));
            }

            Assert.True(expectedStarts.SequenceEqual(capture.Exchanges.Select(e => e.StartNs)), $"split at {split}");
            Assert.Equal(["exchanges"], capture.Metrics.NonZero.Keys);
        }
    }

    [Fact]
    public void Replies_split_at_every_byte_pair_the_same()
    {
        var replies = Encoding.UTF8.GetBytes(Replies);
        for (var split = 1; split < replies.Length; split++)
        {
            var capture = new Capture()
                .Client(Commands, 1_000)
                .Send(StreamSide.Server, replies[..split], 5_000)
                .Send(StreamSide.Server, replies[split..], 6_000);

            Assert.Equal(Expected, Summary(capture.Exchanges));
            Assert.InRange(capture.MostKept, 0, 2 * RespReader.WordLength);
        }
    }

    [Fact]
    public void A_conversation_delivered_one_byte_at_a_time_pairs_the_same()
    {
        var capture = new Capture();
        var time = 0L;
        foreach (var b in Encoding.UTF8.GetBytes(Commands))
        {
            capture.Send(StreamSide.Client, [b], ++time);
        }

        foreach (var b in Encoding.UTF8.GetBytes(Replies))
        {
            capture.Send(StreamSide.Server, [b], ++time);
        }

        Assert.Equal(Expected, Summary(capture.Exchanges));
        Assert.Equal(Expected.Length, capture.Metrics.NonZero["exchanges"]);
    }

    [Theory]
    [InlineData("-ERR wrong number of arguments for 'get' command\r\n", "ERR")]
    [InlineData("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "WRONGTYPE")]
    [InlineData("-NOAUTH Authentication required.\r\n", "NOAUTH")]
    [InlineData("-MOVED 3999 127.0.0.1:6381\r\n", "MOVED")]
    [InlineData("-CUSTOMMODULE something failed\r\n", "error")]
    [InlineData("-alice@example.com is not allowed\r\n", "error")]
    [InlineData("-\r\n", "error")]
    [InlineData("!10\r\nERR failed\r\n", "ERR")]
    public void An_error_reply_is_an_error_whose_status_is_its_known_prefix_or_error(string reply, string status)
    {
        var exchange = Assert.Single(new Capture().Client(Command("GET", "k"), 1).Server(reply, 2).Exchanges);

        Assert.Equal(status, exchange.Status);
        Assert.Equal(ExchangeOutcome.Error, exchange.Outcome);
    }

    [Fact]
    public void A_long_error_line_is_classified_from_its_start_and_streamed()
    {
        var reply = "-ERR " + new string('x', 10_000) + "\r\n";
        var capture = new Capture().Client(Command("EVAL", "return 1", "0"), 1);
        for (var offset = 0; offset < reply.Length; offset += 1_000)
        {
            capture.Server(reply.Substring(offset, Math.Min(1_000, reply.Length - offset)), 2);
        }

        var exchange = Assert.Single(capture.Exchanges);
        Assert.Equal(("ERR", reply.Length), (exchange.Status, exchange.ResponseBytes));
        Assert.InRange(capture.MostKept, 0, RespReader.WordLength);
    }

    [Fact]
    public void Large_bulk_strings_stream_through_without_being_kept()
    {
        var value = new string('v', 1 << 20);
        var set = Encoding.UTF8.GetBytes(Command("SET", "big", value));
        var reply = Encoding.UTF8.GetBytes($"${value.Length}\r\n{value}\r\n");
        var capture = new Capture();
        foreach (var segment in set.Chunk(1448))
        {
            capture.Send(StreamSide.Client, segment, 10);
        }

        capture.Server("+OK\r\n", 20).Client(Command("GET", "big"), 30);
        foreach (var segment in reply.Chunk(1448))
        {
            capture.Send(StreamSide.Server, segment, 40);
        }

        Assert.Equal([$"SET ok Success simple_string {set.Length}/5", $"GET ok Success bulk_string 22/{reply.Length}"], Summary(capture.Exchanges));
        Assert.InRange(capture.MostKept, 0, 2 * RespReader.WordLength);
    }

    [Fact]
    public void A_gap_inside_a_bulk_string_is_skipped_without_losing_the_place()
    {
        var value = new string('v', 100_000);
        var set = Encoding.UTF8.GetBytes(Command("SET", "big", value));
        var capture = new Capture()
            .Send(StreamSide.Client, set[..1_000], 10)
            .Gap(StreamSide.Client, 50_000, 11)
            .Send(StreamSide.Client, set[51_000..], 12)
            .Server("+OK\r\n", 20);

        Assert.Equal([$"SET ok Success simple_string {set.Length}/5"], Summary(capture.Exchanges));
        Assert.Equal(new Dictionary<string, long> { ["exchanges"] = 1 }, capture.Metrics.NonZero);
    }

    [Fact]
    public void A_gap_between_commands_is_a_desync_and_pairing_resumes_with_the_next_command_and_its_reply()
    {
        var capture = new Capture()
            .Client(Command("GET", "a"), 10)
            .Gap(StreamSide.Client, 30, 11)
            .Gap(StreamSide.Client, 30, 11) // already resyncing: not a second desync
            .Server("$1\r\n1\r\n", 12)   // the reply to GET a: dropped with it
            .Server("$1\r\n2\r\n", 13)   // the reply to the lost command: no command since the desync
            .Client(Command("INCR", "n"), 20)
            .Server(":7\r\n", 21);

        Assert.Equal(["INCR ok Success integer 21/4"], Summary(capture.Exchanges));
        Assert.Equal(new Dictionary<string, long> { ["exchanges"] = 1, ["desyncs"] = 1, ["unanswered_commands"] = 1 }, capture.Metrics.NonZero);
    }

    [Theory]
    [InlineData("{\"op\":\"get\"}\r\n")]
    [InlineData("*2\r\n:1\r\n:2\r\n")] // a command's elements are bulk strings
    [InlineData("*x\r\n")]
    [InlineData("\u0016\u0003\u0001\u0002\u0000")] // a TLS record
    public void Garbage_from_the_client_is_a_desync_and_the_next_command_segment_resyncs(string garbage)
    {
        var capture = new Capture()
            .Client(Command("GET", "a"), 10)
            .Client(garbage, 11)
            .Client("more garbage *2\r\n", 12)
            .Server("$1\r\n1\r\n", 13)
            .Client(Command("DEL", "a"), 20)
            .Server(":1\r\n", 21);

        Assert.Equal(["DEL ok Success integer 20/4"], Summary(capture.Exchanges));
        Assert.Equal(1, capture.Metrics.NonZero["desyncs"]);
    }

    [Theory]
    [InlineData("?what\r\n")]
    [InlineData(":12a\r\n")]
    [InlineData("$abc\r\n")]
    [InlineData("$3\r\nabcde")] // payload longer than announced
    [InlineData("*-2\r\n")]
    public void Garbage_from_the_server_is_a_desync(string garbage)
    {
        var capture = new Capture()
            .Client(Command("GET", "a"), 10)
            .Server(garbage, 11)
            .Client(Command("GET", "b"), 20)
            .Server("$1\r\nb\r\n", 21);

        Assert.Equal(["GET ok Success bulk_string 20/7"], Summary(capture.Exchanges));
        Assert.Equal(new Dictionary<string, long> { ["exchanges"] = 1, ["desyncs"] = 1, ["unanswered_commands"] = 1 }, capture.Metrics.NonZero);
    }

    [Fact]
    public void Nested_replies_pair_and_nesting_beyond_the_bound_is_a_desync()
    {
        var eval = Command("EVAL", "return {{{1}}}", "0");
        var deep = string.Concat(Enumerable.Repeat("*1\r\n", 20)) + ":1\r\n";
        var tooDeep = string.Concat(Enumerable.Repeat("*1\r\n", 40)) + ":1\r\n";

        var capture = new Capture().Client(eval, 1).Server(deep, 2).Client(eval, 3).Server(tooDeep, 4);

        Assert.Equal([$"EVAL ok Success array {eval.Length}/{deep.Length}"], Summary(capture.Exchanges));
        Assert.Equal(new Dictionary<string, long> { ["exchanges"] = 1, ["desyncs"] = 1, ["unanswered_commands"] = 1 }, capture.Metrics.NonZero);
    }

    [Fact]
    public void Header_lines_longer_than_any_header_are_garbage_not_kept_forever()
    {
        var capture = new Capture().Client(Command("GET", "a"), 1).Server("$" + new string('1', 100), 2);

        Assert.Equal(1, capture.Metrics.NonZero["desyncs"]);
        Assert.Equal(0, capture.MostKept);
    }

    [Theory]
    [InlineData("SUBSCRIBE", "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")]
    [InlineData("PSUBSCRIBE", "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:1\r\n")]
    [InlineData("MONITOR", "+OK\r\n")]
    public void After_a_subscription_or_monitor_pairing_stops_and_the_stream_is_not_mistaken_for_replies(string command, string confirmation)
    {
        var capture = new Capture()
            .Client(Command("PING") + Command(command, "news"), 1)
            .Server("+PONG\r\n" + confirmation, 2)
            .Server("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n+1700000000.000000 [0 127.0.0.1:5000] \"get\" \"k\"\r\n", 3)
            .Client(Command("PING"), 4)
            .Server("*2\r\n$4\r\npong\r\n$0\r\n\r\n", 5)
            .Close(6);

        Assert.Equal(["PING ok Success simple_string 14/7"], Summary(capture.Exchanges));
        Assert.Equal(new Dictionary<string, long> { ["exchanges"] = 1, ["unpaired_connections"] = 1 }, capture.Metrics.NonZero);
    }

    [Fact]
    public void Resp3_push_messages_between_replies_are_counted_and_skipped()
    {
        var capture = new Capture()
            .Client(Command("GET", "a") + Command("GET", "b"), 1)
            .Server(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n$-1\r\n>2\r\n$4\r\ntest\r\n:1\r\n$1\r\nb\r\n", 2);

        Assert.Equal(["GET ok Success null 20/5", "GET ok Success bulk_string 20/7"], Summary(capture.Exchanges));
        Assert.Equal(new Dictionary<string, long> { ["exchanges"] = 2, ["push_messages"] = 2 }, capture.Metrics.NonZero);
    }

    [Fact]
    public void Commands_beyond_the_pipeline_bound_are_counted_and_their_replies_skipped_not_mispaired()
    {
        var capture = new Capture(maxPipelinedCommands: 2)
            .Client(Command("INCR", "a") + Command("INCR", "b") + Command("INCR", "c") + Command("INCR", "d"), 1)
            .Server(":1\r\n:2\r\n", 2)
            .Client(Command("GET", "e"), 3) // still behind the skipped ones
            .Server(":3\r\n:4\r\n$1\r\n5\r\n", 4)
            .Client(Command("PING"), 5)
            .Server("+PONG\r\n", 6);

        Assert.Equal(["INCR ok Success integer 21/4", "INCR ok Success integer 21/4", "PING ok Success simple_string 14/7"], Summary(capture.Exchanges));
        Assert.Equal(new Dictionary<string, long> { ["exchanges"] = 3, ["untracked_commands"] = 3 }, capture.Metrics.NonZero);
    }

    [Fact]
    public void A_reply_without_a_command_is_unmatched()
    {
        var capture = new Capture().Server("+OK\r\n", 1).Client(Command("PING"), 2).Server("+PONG\r\n", 3);

        Assert.Equal(["PING ok Success simple_string 14/7"], Summary(capture.Exchanges));
        Assert.Equal(new Dictionary<string, long> { ["exchanges"] = 1, ["unmatched_replies"] = 1 }, capture.Metrics.NonZero);
    }

    [Fact]
    public void Fin_from_the_client_keeps_the_connection_while_replies_are_due_and_close_counts_the_unanswered()
    {
        var capture = new Capture().Client(Command("BLPOP", "q", "0") + Command("PING"), 1);

        Assert.True(capture.Parser.OnFin(StreamSide.Client, 2));
        Assert.False(capture.Parser.OnFin(StreamSide.Server, 3));
        capture.Close(4);

        Assert.Empty(capture.Exchanges);
        Assert.Equal(new Dictionary<string, long> { ["unanswered_commands"] = 2 }, capture.Metrics.NonZero);
        Assert.False(new Capture().Client(Command("PING"), 1).Server("+PONG\r\n", 2).Parser.OnFin(StreamSide.Client, 3));
    }

    [Fact]
    public void A_reply_cut_by_the_close_still_answers_its_command()
    {
        var capture = new Capture().Client(Command("GET", "k"), 1).Server("$100\r\npartial", 5).Close(9);

        Assert.Equal(["GET ok Success bulk_string 20/13"], Summary(capture.Exchanges));
        Assert.Equal(4, capture.Exchanges[0].DurationNs);
    }

    [Fact]
    public void Empty_commands_are_ignored_as_the_server_ignores_them()
    {
        var capture = new Capture().Client("*0\r\n\r\n" + Command("PING"), 1).Server("+PONG\r\n", 2);

        Assert.Equal(["PING ok Success simple_string 14/7"], Summary(capture.Exchanges));
    }

    // Where each top-level command starts in the pipelined bytes (every command is one array or one inline line).
    private static List<int> CommandOffsets(byte[] commands)
    {
        var offsets = new List<int>();
        var reader = new RespReader(commands: true, RedisCommands.Name);
        var offset = 0;
        while (offset < commands.Length)
        {
            offsets.Add(offset);
            Assert.Equal(RespStep.Complete, reader.Read(commands, ref offset));
        }

        return offsets;
    }
}
