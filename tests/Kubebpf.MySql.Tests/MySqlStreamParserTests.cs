using FsCheck;
using FsCheck.Xunit;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.MySql.Tests;

public sealed class MySqlStreamParserTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_query_and_its_result_set_make_one_exchange_with_rows_counted(bool deprecateEof)
    {
        var driver = new ParserDriver().Connect(deprecateEof);
        driver.Client(Packets.Query("SELECT * FROM t WHERE id > 10"));
        driver.Server(Packets.ResultSet(1, 2, Packets.Rows(5), deprecateEof));
        driver.Client(Packets.Query("SELECT * FROM t WHERE id > 99"));
        driver.Server(Packets.ResultSet(1, 3, Packets.Rows(0, 3), deprecateEof));
        Assert.Equal(
            [
                "COM_QUERY SELECT SELECT * FROM t WHERE id > ? ok rows=5 db=shop",
                "COM_QUERY SELECT SELECT * FROM t WHERE id > ? ok rows=0 db=shop",
            ],
            driver.Rendered());
        Assert.Equal("exchanges=2", driver.Counters());
    }

    [Fact]
    public void Latency_runs_from_the_command_to_the_first_answer_packet()
    {
        var driver = new ParserDriver().Connect();
        driver.Client(Packets.Query("SELECT SLEEP(0.2)"));
        driver.Step = 200_000_000;
        driver.Server(Packets.ResultSet(1, 1, [["0"]], deprecateEof: true)[..20]);
        driver.Step = 5_000_000;
        driver.Server(Packets.ResultSet(1, 1, [["0"]], deprecateEof: true)[20..]);
        var exchange = Assert.Single(driver.Exchanges);
        Assert.Equal(200_000_000, exchange.DurationNs);
    }

    [Fact]
    public void Ok_and_err_answers_carry_affected_rows_and_the_error_code_and_state_but_no_message()
    {
        var driver = new ParserDriver().Connect();
        driver.Client(Packets.Query("INSERT INTO t VALUES (1, 'alice')")).Server(Packets.Ok(1, affectedRows: 1));
        driver.Client(Packets.Query("UPDATE t SET v = 'x' WHERE id < 5")).Server(Packets.Ok(1, affectedRows: 4));
        driver.Client(Packets.Query("DELETE FROM t WHERE id = 3")).Server(Packets.Ok(1, affectedRows: 0));
        driver.Client(Packets.Query("INSERT INTO t VALUES (1, 'alice')"))
            .Server(Packets.Err(1, 1062, "23000", "Duplicate entry '1' for key 'PRIMARY'"));
        driver.Client(Packets.Query("SELECT * FROM missing")).Server(Packets.Err(1, 1146, "42S02", "Table 'shop.missing' doesn't exist"));
        driver.Client(Packets.Query("SELEC 1")).Server(Packets.Err(1, 1064, "42000", "You have an error in your SQL syntax"));
        Assert.Equal(
            [
                "COM_QUERY INSERT INSERT INTO t VALUES (?) ok affected=1 db=shop",
                "COM_QUERY UPDATE UPDATE t SET v = ? WHERE id < ? ok affected=4 db=shop",
                "COM_QUERY DELETE DELETE FROM t WHERE id = ? ok affected=0 db=shop",
                "COM_QUERY INSERT INSERT INTO t VALUES (?) error code=1062 state=23000 db=shop",
                "COM_QUERY SELECT SELECT * FROM missing error code=1146 state=42S02 db=shop",
                "COM_QUERY OTHER SELEC ? error code=1064 state=42000 db=shop",
            ],
            driver.Rendered());
        Assert.All(driver.Exchanges.Where(e => e.Code >= 0), e => Assert.Equal(ExchangeOutcome.Error, e.Outcome));
    }

    [Fact]
    public void Multi_statement_results_are_one_exchange_up_to_the_last_result()
    {
        var driver = new ParserDriver().Connect();
        driver.Client(Packets.Query("SELECT 1; UPDATE t SET v = 2; SELECT * FROM t"));
        driver.Server(
            Packets.ResultSet(1, 1, [["1"]], deprecateEof: true, Packets.AutoCommit | Packets.MoreResults),
            Packets.Ok(4, affectedRows: 3, Packets.AutoCommit | Packets.MoreResults),
            Packets.ResultSet(5, 2, Packets.Rows(7), deprecateEof: true));
        Assert.Equal(["COM_QUERY SELECT SELECT ?; UPDATE t SET v = ?; SELECT * FROM t ok rows=8 affected=3 db=shop"], driver.Rendered());
    }

    [Fact]
    public void Pipelined_commands_are_paired_in_order()
    {
        var driver = new ParserDriver().Connect(deprecateEof: false);
        driver.Client(Packets.Query("SELECT 1"), Packets.Command(0x0E), Packets.Query("SELECT * FROM nope"), Packets.Command(0x02, "other"u8.ToArray()));
        driver.Server(
            Packets.ResultSet(1, 1, [["1"]], deprecateEof: false), Packets.Ok(1), Packets.Err(1, 1146, "42S02", "no"), Packets.Ok(1));
        driver.Client(Packets.Query("SELECT 2")).Server(Packets.ResultSet(1, 1, [["2"]], deprecateEof: false));
        Assert.Equal(
            [
                "COM_QUERY SELECT SELECT ? ok rows=1 db=shop",
                "COM_PING OTHER COM_PING ok affected=0 db=shop",
                "COM_QUERY SELECT SELECT * FROM nope error code=1146 state=42S02 db=shop",
                "COM_INIT_DB OTHER COM_INIT_DB ok affected=0 db=shop",
                "COM_QUERY SELECT SELECT ? ok rows=1 db=other",
            ],
            driver.Rendered());
        var starts = driver.Exchanges.Select(e => e.StartNs).ToList();
        Assert.Equal(starts.Distinct().Count(), starts.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Prepared_statements_are_reported_by_their_fingerprint_per_connection(bool deprecateEof)
    {
        var driver = new ParserDriver().Connect(deprecateEof);
        driver.Client(Packets.Command(0x16, "SELECT v FROM t WHERE id = ?"u8.ToArray()));
        driver.Server(Packets.PrepareOk(1, statementId: 7, columns: 1, parameters: 1, deprecateEof));
        for (var i = 0; i < 3; i++)
        {
            driver.Client(Packets.Execute(7)).Server(Packets.ResultSet(1, 1, [["x"]], deprecateEof));
        }

        driver.Client(Packets.Command(0x19, 7, 0, 0, 0)); // COM_STMT_CLOSE: no answer
        driver.Client(Packets.Execute(7)).Server(Packets.Err(1, 1243, "HY000", "Unknown prepared statement handler"));
        driver.Client(Packets.Command(0x01)); // COM_QUIT
        Assert.Equal(
            [
                "COM_STMT_PREPARE SELECT SELECT v FROM t WHERE id = ? ok db=shop",
                "COM_STMT_EXECUTE SELECT SELECT v FROM t WHERE id = ? ok rows=1 db=shop",
                "COM_STMT_EXECUTE SELECT SELECT v FROM t WHERE id = ? ok rows=1 db=shop",
                "COM_STMT_EXECUTE SELECT SELECT v FROM t WHERE id = ? ok rows=1 db=shop",
                "COM_STMT_EXECUTE OTHER {unknown statement} error code=1243 state=HY000 db=shop",
            ],
            driver.Rendered());
        Assert.Equal("exchanges=5 unknown_statements=1 commands_without_answer=2", driver.Counters());
    }

    [Fact]
    public void Pipelined_prepares_each_map_their_own_statement_id_and_direct_execution_uses_the_last_one()
    {
        var driver = new ParserDriver().Connect();
        driver.Client(Packets.Command(0x16, "SELECT a FROM t WHERE id = ?"u8.ToArray()), Packets.Command(0x16, "DELETE FROM t WHERE id = ?"u8.ToArray()));
        driver.Server(Packets.PrepareOk(1, 1, 1, 1, deprecateEof: true), Packets.PrepareOk(1, 2, 0, 1, deprecateEof: true));
        driver.Client(Packets.Execute(1)).Server(Packets.ResultSet(1, 1, [["a"]], deprecateEof: true));
        driver.Client(Packets.Execute(2)).Server(Packets.Ok(1, affectedRows: 1));
        driver.Client(Packets.Execute(0xFFFFFFFF)).Server(Packets.Ok(1, affectedRows: 0));
        driver.Client(Packets.Command(0x17, 1)).Server(Packets.Err(1, 1210, "HY000", "Incorrect arguments"));
        Assert.Equal(
            [
                "COM_STMT_EXECUTE SELECT SELECT a FROM t WHERE id = ? ok rows=1 db=shop",
                "COM_STMT_EXECUTE DELETE DELETE FROM t WHERE id = ? ok affected=1 db=shop",
                "COM_STMT_EXECUTE DELETE DELETE FROM t WHERE id = ? ok affected=0 db=shop",
                "COM_STMT_EXECUTE OTHER {unknown statement} error code=1210 state=HY000 db=shop",
            ],
            driver.Rendered().Skip(2));
    }

    [Fact]
    public void A_connection_older_than_the_capture_is_parsed_from_its_next_command_and_unknown_statements_are_counted()
    {
        var driver = new ParserDriver();
        driver.Server(Packets.Ok(1)); // the answer to a command sent before the capture started
        driver.Client(Packets.Execute(3)).Server(Packets.ResultSet(1, 1, [["x"], ["y"]], deprecateEof: true));
        driver.Client(Packets.Query("SELECT 1")).Server(Packets.ResultSet(1, 1, [["1"]], deprecateEof: false));
        Assert.Equal(
            ["COM_STMT_EXECUTE OTHER {unknown statement} ok rows=2", "COM_QUERY SELECT SELECT ? ok rows=1"],
            driver.Rendered());
        Assert.Equal("exchanges=2 unmatched_responses=1 unknown_statements=1", driver.Counters());
    }

    [Fact]
    public void A_tls_connection_is_marked_and_nothing_after_the_ssl_request_is_parsed()
    {
        var driver = new ParserDriver();
        driver.Server(Packets.Greeting(Packets.Basic | Packets.Ssl));
        driver.Client(Packets.SslRequest(Packets.Basic));
        driver.Client([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]);
        driver.Client(Packets.Query("SELECT 1")).Server(Packets.Ok(1));
        Assert.Empty(driver.Exchanges);
        Assert.Equal("tls_connections=1", driver.Counters());
    }

    [Fact]
    public void A_compressed_connection_is_marked_and_not_parsed()
    {
        var driver = new ParserDriver();
        driver.Server(Packets.Greeting(Packets.Basic | Packets.Compress));
        driver.Client(Packets.HandshakeResponse(Packets.Basic | Packets.Compress, "app", null));
        driver.Server(Packets.Ok(2)).Client(Packets.Query("SELECT 1")).Server(Packets.Ok(1));
        Assert.Empty(driver.Exchanges);
        Assert.Equal("compressed_connections=1", driver.Counters());
    }

    [Fact]
    public void Packets_split_anywhere_give_the_same_exchanges()
    {
        byte[] client = [.. Packets.Query("SELECT * FROM t WHERE a = 'x'"), .. Packets.Command(0x0E)];
        byte[] server = [.. Packets.ResultSet(1, 2, Packets.Rows(3), deprecateEof: true), .. Packets.Ok(1)];
        for (var cut = 1; cut < server.Length; cut += 3)
        {
            var driver = new ParserDriver().Connect();
            driver.Client(client[..(cut % client.Length)]).Client(client[(cut % client.Length)..]);
            driver.Server(server[..cut]).Server(server[cut..]);
            Assert.Equal(
                ["COM_QUERY SELECT SELECT * FROM t WHERE a = ? ok rows=3 db=shop", "COM_PING OTHER COM_PING ok affected=0 db=shop"],
                driver.Rendered());
        }
    }

    [Fact]
    public void A_20_MB_statement_split_at_16_MB_is_one_exchange_fingerprinted_from_its_start()
    {
        var driver = new ParserDriver().Connect();
        var sql = "INSERT INTO blobs VALUES (1, '" + new string('s', 20 * 1024 * 1024) + "')";
        var statement = Packets.Query(sql);
        Assert.True(statement.Length > 0xFFFFFF + 8);
        driver.Client(statement).Server(Packets.Ok(2, affectedRows: 1));
        Assert.Equal(["COM_QUERY INSERT INSERT INTO blobs VALUES (? … ok affected=1 db=shop truncated"], driver.Rendered());
        Assert.Equal(statement.Length, driver.Exchanges[0].RequestBytes);
    }

    [Fact]
    public void A_large_statement_with_its_middle_not_captured_is_one_exchange_and_the_next_command_is_read()
    {
        var driver = new ParserDriver().Connect();
        var statement = Packets.Query("INSERT INTO blobs VALUES (1, '" + new string('s', 20 * 1024 * 1024) + "')");
        // What the capture delivers of a binary-starting segment: its first 4 KiB, a gap, its last 4 KiB.
        driver.Client(statement[..4096]).Gap(StreamSide.Client, statement.Length - 8192).Client(statement[^4096..]);
        driver.Server(Packets.Ok(2, affectedRows: 1));
        driver.Client(Packets.Query("SELECT 1")).Server(Packets.ResultSet(1, 1, [["1"]], deprecateEof: true));
        Assert.Equal(
            ["COM_QUERY INSERT INSERT INTO blobs VALUES (? … ok affected=1 db=shop truncated", "COM_QUERY SELECT SELECT ? ok rows=1 db=shop"],
            driver.Rendered());
        Assert.Equal(statement.Length, driver.Exchanges[0].RequestBytes);
        // The gap hides the header of the statement's second packet (after 16 MiB): the client side resumes at the next command.
        Assert.Equal("exchanges=2 desyncs=1 truncated_exchanges=1", driver.Counters());
    }

    [Fact]
    public void A_result_set_copied_as_the_capture_copies_binary_segments_is_one_exchange_with_its_rows_counted_across_the_gaps()
    {
        var driver = new ParserDriver().Connect();
        driver.Client(Packets.Query("SELECT * FROM big"));
        var answer = Packets.ResultSet(1, 2, Packets.Rows(100_000), deprecateEof: true);
        // What the capture delivers of 64 KiB segments that start with binary bytes: their first and last 4 KiB.
        for (var segment = 0; segment < answer.Length; segment += 65536)
        {
            var bytes = answer.AsSpan(segment, Math.Min(65536, answer.Length - segment));
            if (bytes.Length <= 8192)
            {
                driver.Server(bytes.ToArray());
                continue;
            }

            driver.Server(bytes[..4096].ToArray()).Gap(StreamSide.Server, bytes.Length - 8192).Server(bytes[^4096..].ToArray());
        }

        var details = (MySqlDetails)Assert.Single(driver.Exchanges).Details!;
        Assert.True(details.Truncated);
        Assert.Equal(100_000, details.Rows); // the rows in each gap from the sequence ids and the sizes of the rows around it
        driver.Client(Packets.Query("SELECT 2")).Server(Packets.ResultSet(1, 1, [["2"]], deprecateEof: true));
        Assert.Equal("COM_QUERY SELECT SELECT ? ok rows=1 db=shop", ParserDriver.Render(driver.Exchanges[^1]));
        Assert.Equal(2, driver.Metrics.Value("exchanges"));
        Assert.Equal(0, driver.Metrics.Value("unmatched_responses") + driver.Metrics.Value("invalid_packets"));
    }

    [Fact]
    public void A_result_set_whose_middle_was_not_captured_ends_at_its_last_packet_with_rows_estimated()
    {
        var driver = new ParserDriver().Connect();
        driver.Client(Packets.Query("SELECT * FROM big"));
        var answer = Packets.ResultSet(1, 2, Packets.Rows(100_000), deprecateEof: true);
        driver.Server(answer[..4096]).Gap(StreamSide.Server, answer.Length - 8192).Server(answer[^4096..]);
        var details = (MySqlDetails)Assert.Single(driver.Exchanges).Details!;
        Assert.True(details.Truncated);
        Assert.InRange(details.Rows, 90_000, 120_000); // one 2.5 MB gap: rows grow from 20 to 26 bytes inside it
        Assert.Equal(0, (details.Rows - 100_000) % 256); // the count modulo 256 is exact
        Assert.Equal("exchanges=1 truncated_exchanges=1 row_gaps=1", driver.Counters());
    }

    [Fact]
    public void A_result_set_whose_end_was_not_captured_ends_at_the_next_command()
    {
        var driver = new ParserDriver().Connect();
        driver.Client(Packets.Query("SELECT * FROM big"));
        var answer = Packets.ResultSet(1, 2, Packets.Rows(10_000), deprecateEof: true);
        driver.Server(answer[..4096]).Gap(StreamSide.Server, answer.Length - 4096);
        driver.Client(Packets.Query("SELECT 2"));
        driver.Server(Packets.ResultSet(1, 1, [["2"]], deprecateEof: true));
        Assert.Equal(
            ["COM_QUERY SELECT SELECT * FROM big ok rows=" + ((MySqlDetails)driver.Exchanges[0].Details!).Rows + " db=shop truncated", "COM_QUERY SELECT SELECT ? ok rows=1 db=shop"],
            driver.Rendered());
    }

    [Fact]
    public void Literals_stay_out_unless_statements_are_recorded()
    {
        const string Sql = "SELECT * FROM users WHERE email = 'jane@example.com'";
        var hidden = new ParserDriver().Connect();
        hidden.Client(Packets.Query(Sql)).Server(Packets.Err(1, 1146, "42S02", "Table 'jane@example.com' doesn't exist"));
        var exchange = Assert.Single(hidden.Exchanges);
        Assert.DoesNotContain("jane", Describe(exchange), StringComparison.Ordinal);

        var recorded = new ParserDriver(new MySqlOptions { RecordStatements = true }).Connect();
        recorded.Client(Packets.Query(Sql)).Server(Packets.Ok(1));
        Assert.Equal(Sql, ((MySqlDetails)recorded.Exchanges[0].Details!).Statement);
    }

    [Fact]
    public void A_truncated_packet_at_the_end_of_a_connection_is_counted_not_thrown()
    {
        var driver = new ParserDriver().Connect();
        driver.Client(Packets.Query("SELECT 1")[..6]);
        driver.Parser.OnClose(1);
        Assert.Empty(driver.Exchanges);
        driver = new ParserDriver().Connect();
        driver.Client(Packets.Query("SELECT 1")).Server(Packets.ResultSet(1, 1, Packets.Rows(3, 1), deprecateEof: true)[..30]);
        driver.Parser.OnClose(2);
        Assert.Equal(["COM_QUERY SELECT SELECT ? ok rows=0 db=shop truncated"], driver.Rendered());
    }

    [Fact]
    public void A_length_that_lies_is_caught_when_the_server_answers_and_the_client_resumes_at_its_next_command()
    {
        var driver = new ParserDriver().Connect();
        var lying = Packets.Query("SELECT 1");
        lying[0] = 200; // announces 200 bytes, sends 9
        driver.Client(lying).Server(Packets.Ok(1));
        driver.Client(Packets.Query("SELECT 2")).Server(Packets.Ok(1));
        Assert.Equal(2, driver.Exchanges.Count);
        Assert.Equal("COM_QUERY SELECT SELECT ? ok affected=0 db=shop", ParserDriver.Render(driver.Exchanges[^1]));
        Assert.Equal(1, driver.Metrics.Value("desyncs"));
    }

    [Fact]
    public void Commands_are_bounded_by_the_pipeline_limit()
    {
        var driver = new ParserDriver(new MySqlOptions { MaxPipelinedCommands = 2 }).Connect();
        driver.Client(Packets.Command(0x0E), Packets.Command(0x0E), Packets.Command(0x0E));
        driver.Server(Packets.Ok(1), Packets.Ok(1), Packets.Ok(1));
        Assert.Equal(2, driver.Exchanges.Count);
        Assert.Equal(1, driver.Metrics.Value("pipeline_overflow"));
        Assert.Equal(1, driver.Metrics.Value("unmatched_responses"));
    }

    [Fact]
    public void Prepared_statements_are_bounded_per_connection()
    {
        var driver = new ParserDriver(new MySqlOptions { MaxPreparedStatements = 1 }).Connect();
        driver.Client(Packets.Command(0x16, "SELECT 1"u8.ToArray())).Server(Packets.PrepareOk(1, 1, 1, 0, deprecateEof: true));
        driver.Client(Packets.Command(0x16, "SELECT 2"u8.ToArray())).Server(Packets.PrepareOk(1, 2, 1, 0, deprecateEof: true));
        driver.Client(Packets.Execute(2)).Server(Packets.ResultSet(1, 1, [["2"]], deprecateEof: true));
        Assert.Equal("COM_STMT_EXECUTE OTHER {unknown statement} ok rows=1 db=shop", ParserDriver.Render(driver.Exchanges[^1]));
        Assert.Equal(1, driver.Metrics.Value("prepared_overflow"));
    }

    [Property(MaxTest = 300)]
    public void Any_bytes_on_either_side_are_counted_never_thrown(byte[][] segments, bool[] sides, int[] gaps)
    {
        var driver = new ParserDriver().Connect();
        for (var i = 0; i < (segments ?? []).Length; i++)
        {
            var side = sides is { Length: > 0 } && sides[i % sides.Length] ? StreamSide.Server : StreamSide.Client;
            driver.Send(side, segments![i] ?? []);
            if (gaps is { Length: > 0 } && gaps[i % gaps.Length] % 5 == 0)
            {
                driver.Gap(side, Math.Abs((long)gaps[i % gaps.Length]) + 1);
            }
        }

        driver.Parser.OnClose(long.MaxValue);
        Assert.True(driver.Exchanges.Count <= (segments ?? []).Length);
    }

    [Property(MaxTest = 200)]
    public void Random_segmentation_yields_the_same_exchanges(PositiveInt[] clientCuts, PositiveInt[] serverCuts)
    {
        // Two rounds: the client learns the statement id from the first round's PREPARE_OK.
        byte[][] client =
        [
            [.. Packets.Query("SELECT * FROM t WHERE id IN (1, 2)"), .. Packets.Command(0x16, "UPDATE t SET v = ? WHERE id = ?"u8.ToArray())],
            [.. Packets.Execute(9), .. Packets.Query("SELECT 'a'; SELECT 'b'")],
        ];
        byte[][] server =
        [
            [.. Packets.ResultSet(1, 2, Packets.Rows(4), deprecateEof: false), .. Packets.PrepareOk(1, 9, 0, 2, deprecateEof: false)],
            [
                .. Packets.Ok(1, affectedRows: 1), .. Packets.ResultSet(1, 1, [["a"]], deprecateEof: false, Packets.AutoCommit | Packets.MoreResults),
                .. Packets.ResultSet(4, 1, [["b"]], deprecateEof: false),
            ],
        ];
        var driver = new ParserDriver().Connect(deprecateEof: false);
        for (var round = 0; round < 2; round++)
        {
            foreach (var part in Chop(client[round], clientCuts))
            {
                driver.Client(part);
            }

            foreach (var part in Chop(server[round], serverCuts))
            {
                driver.Server(part);
            }
        }

        Assert.Equal(
            [
                "COM_QUERY SELECT SELECT * FROM t WHERE id IN (?) ok rows=4 db=shop",
                "COM_STMT_PREPARE UPDATE UPDATE t SET v = ? WHERE id = ? ok db=shop",
                "COM_STMT_EXECUTE UPDATE UPDATE t SET v = ? WHERE id = ? ok affected=1 db=shop",
                "COM_QUERY SELECT SELECT ?; SELECT ? ok rows=2 db=shop",
            ],
            driver.Rendered());
        Assert.Equal("exchanges=4", driver.Counters());
    }

    private static IEnumerable<byte[]> Chop(byte[] data, PositiveInt[]? cuts)
    {
        var offset = 0;
        foreach (var cut in cuts ?? [])
        {
            var size = Math.Min(cut.Get % 40 + 1, data.Length - offset);
            if (size <= 0)
            {
                break;
            }

            yield return data[offset..(offset + size)];
            offset += size;
        }

        if (offset < data.Length)
        {
            yield return data[offset..];
        }
    }

    private static string Describe(ParsedExchange exchange)
    {
        var details = (MySqlDetails)exchange.Details!;
        var fields = new Kubebpf.Sdk.Metrics.Field[details.FieldCount];
        details.WriteFields(fields);
        return exchange.Operation + exchange.Resource + exchange.Status + string.Join(',', fields.Select(f => f.ToString()));
    }
}
