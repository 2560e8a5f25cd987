using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Http.Tests;

/// <summary>The parser of one connection, driven through the stream contract directly (no TCP).</summary>
public class HttpStreamParserTests
{
    private const string Ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

    [Fact]
    public void An_exchange_carries_what_the_request_and_response_said()
    {
        var driver = new StreamDriver(new HttpOptions { RecordQueryStrings = true });
        driver.Client("POST /orders?dry=1 HTTP/1.1\r\nHost: shop\r\nContent-Length: 4\r\n\r\nabcd", 1_000);
        driver.Server("HTTP/1.1 201 Created\r\nContent-Length: 7\r\n\r\ncreated", 9_000_001_000);

        var exchange = Assert.Single(driver.Exchanges);
        Assert.Equal(
            ("POST", "/orders", 201, "2xx", ExchangeOutcome.Success, 1_000L, 9_000_000_000L, 4L, 7L),
            (exchange.Operation, exchange.Resource, exchange.Code, exchange.Status, exchange.Outcome, exchange.StartNs,
                exchange.DurationNs, exchange.RequestBytes, exchange.ResponseBytes));
        Assert.Equal(new HttpDetails("HTTP/1.1", "shop", "dry=1"), exchange.Details);
        Assert.Equal("counters: exchanges=1", StreamDriver.RenderCounters(driver.Metrics));
    }

    [Theory]
    [InlineData(101, "1xx", ExchangeOutcome.Success)]
    [InlineData(302, "3xx", ExchangeOutcome.Success)]
    [InlineData(404, "4xx", ExchangeOutcome.ClientError)]
    [InlineData(503, "5xx", ExchangeOutcome.Error)]
    [InlineData(600, "other", ExchangeOutcome.Success)]
    public void Status_class_and_outcome_follow_the_code(int code, string status, ExchangeOutcome outcome)
    {
        var driver = new StreamDriver();
        driver.Client("GET / HTTP/1.1\r\n\r\n", 0);
        driver.Server($"HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n", 5);

        var exchange = Assert.Single(driver.Exchanges);
        Assert.Equal((code, status, outcome), (exchange.Code, exchange.Status, exchange.Outcome));
    }

    [Fact]
    public void A_closed_parser_serves_a_later_connection_as_a_new_parser_would()
    {
        // The first connection ends in the middle of everything: a request unanswered, a response body half read,
        // a request head half read, and late timestamps (each request starts after the one before).
        var first = new StreamDriver();
        first.Client("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\nPOST /c HTTP/1.1\r\nContent-Le", 9_000);
        first.Server("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 9_500);
        first.Close(10_000);

        var later = new StreamDriver(first);
        var fresh = new StreamDriver();
        Assert.Same(first.Parser, later.Parser);
        foreach (var driver in new[] { later, fresh })
        {
            driver.Client("GET /a HTTP/1.1\r\nHost: y\r\n\r\nPUT /d HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", 100);
            driver.Server("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 500 Oops\r\nContent-Length: 1\r\n\r\n!", 200);
            driver.Close(300);
        }

        Assert.Equal(fresh.Exchanges.Select(StreamDriver.Render), later.Exchanges.Select(StreamDriver.Render));
        Assert.Equal(2, later.Exchanges.Count);
    }

    [Fact]
    public void A_parser_closed_twice_still_serves_one_connection_at_a_time()
    {
        var first = new StreamDriver();
        first.Close(1);
        first.Close(2);

        Assert.NotSame(new StreamDriver(first).Parser, new StreamDriver(first).Parser);
    }

    [Fact]
    public void A_keep_alive_connection_reuses_its_strings_and_details_until_they_change()
    {
        var driver = new StreamDriver();
        foreach (var (path, host, t) in new[] { ("/a", "x", 0), ("/a", "x", 10), ("/b", "y", 20) })
        {
            driver.Client($"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n", t);
            driver.Server(Ok, t + 5);
        }

        var (first, second, third) = (driver.Exchanges[0], driver.Exchanges[1], driver.Exchanges[2]);
        Assert.Same(first.Resource, second.Resource);
        Assert.Same(first.Details, second.Details);
        Assert.NotSame(second.Details, third.Details);
        Assert.Equal(("/b", new HttpDetails("HTTP/1.1", "y", null)), (third.Resource, third.Details));
    }

    [Fact]
    public void Pipelined_requests_of_one_segment_start_1_ns_apart()
    {
        var driver = new StreamDriver();
        driver.Client("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n", 100);
        driver.Server(Ok + Ok, 400);
        driver.Server(Ok, 900);

        Assert.Equal(
            [(100L, 300L), (101L, 299L), (102L, 798L)],
            driver.Exchanges.Select(e => (e.StartNs, e.DurationNs)));
    }

    [Fact]
    public void A_head_starts_when_its_first_byte_arrived()
    {
        var driver = new StreamDriver();
        driver.Client("POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nx", 100);
        driver.Client("yGET /b HTT", 200); // the body ends, the next head starts in the new bytes
        driver.Client("P/1.1\r\n\r\n", 300);
        driver.Server("HTTP/1.1 200 OK\r\nContent-", 400); // a response head split in two starts with its first part
        driver.Server("Length: 0\r\n\r\n" + Ok, 500);

        Assert.Equal([(100L, 300L), (200L, 300L)], driver.Exchanges.Select(e => (e.StartNs, e.DurationNs)));
    }

    [Fact]
    public void Empty_lines_before_between_and_after_messages_are_ignored()
    {
        var driver = new StreamDriver();
        driver.Client("\r\n\r\nGET /a HTTP/1.1\r\n\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nok\r\n\n", 0);
        driver.Client("\r", 1); // may start one more empty line: kept
        driver.Client("\nGET /c HTTP/1.1\r\n\r\n", 2);
        driver.Server("\r\n" + Ok + "\r\n" + Ok + "\n" + Ok + "\r\n", 10);

        Assert.Equal(
            "GET /a HTTP/1.1 host=- status=200 2xx Success start=0 duration=10 req=0 resp=0\n"
            + "POST /b HTTP/1.1 host=- status=200 2xx Success start=1 duration=9 req=2 resp=0\n"
            + "GET /c HTTP/1.1 host=- status=200 2xx Success start=2 duration=8 req=0 resp=0\n"
            + "counters: exchanges=3",
            driver.Render());
    }

    [Fact]
    public void Connect_is_a_tunnel_whose_bytes_are_never_parsed_and_whose_content_length_is_not_a_body()
    {
        var driver = new StreamDriver();
        driver.Client("CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\nContent-Length: 9\r\n\r\nGET /early HTTP/1.1\r\n\r\n", 0);
        driver.Client("GET /before-answer HTTP/1.1\r\n\r\n", 5);
        driver.Server("HTTP/1.1 200 Connection Established\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n", 10);
        driver.Client("GET /inside HTTP/1.1\r\n\r\n", 20);
        driver.Server("garbage from the tunnel", 30);

        Assert.Equal(
            "CONNECT db.internal:5432 HTTP/1.1 host=db.internal:5432 status=200 2xx Success start=0 duration=10 req=0 resp=0\n"
            + "counters: exchanges=1 tunnels=1",
            driver.Render());
    }

    [Fact]
    public void A_refused_connect_leaves_the_connection_http_from_the_next_request_line()
    {
        var driver = new StreamDriver();
        driver.Client("CONNECT a:443 HTTP/1.1\r\n\r\n\x16\x03\x01 hello", 0);
        driver.Server("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", 10);
        driver.Client("\x16\x03\x01 more tunnel bytes sent too early", 11);
        driver.Client("CONNECT a:443 HTTP/1.1\r\nProxy-Authorization: x\r\n\r\n", 20);
        driver.Server("HTTP/1.1 200 OK\r\n\r\n", 30);

        Assert.Equal(
            "CONNECT a:443 HTTP/1.1 host=- status=407 4xx ClientError start=0 duration=10 req=0 resp=0\n"
            + "CONNECT a:443 HTTP/1.1 host=- status=200 2xx Success start=20 duration=10 req=0 resp=0\n"
            + "counters: exchanges=2 tunnels=1",
            driver.Render());
    }

    [Fact]
    public void Switching_protocols_makes_a_tunnel()
    {
        var driver = new StreamDriver();
        driver.Client("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 0);
        driver.Server("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello", 15);
        driver.Client("\x81\x85GET / HTTP/1.1\r\n\r\n", 20);
        driver.Server(Ok, 25);
        driver.Gap(StreamSide.Server, 1000, 26);

        Assert.Equal(
            "GET /ws HTTP/1.1 host=- status=101 1xx Success start=0 duration=15 req=0 resp=0\n"
            + "counters: exchanges=1 tunnels=1",
            driver.Render());
    }

    [Fact]
    public void Interim_responses_do_not_answer_the_request()
    {
        var driver = new StreamDriver();
        driver.Client("PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", 0);
        driver.Server("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n", 5);
        driver.Client("abc", 6);
        driver.Server("HTTP/1.1 204 No Content\r\n\r\n", 20);

        Assert.Equal("PUT /u HTTP/1.1 host=- status=204 2xx Success start=0 duration=20 req=3 resp=0\ncounters: exchanges=1", driver.Render());
    }

    [Fact]
    public void Head_responses_204_and_304_have_no_body_whatever_they_declare()
    {
        var driver = new StreamDriver();
        driver.Client("HEAD /f HTTP/1.1\r\n\r\nGET /f HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\n", 0);
        driver.Server("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n" + Ok, 10);

        Assert.Equal([0L, 0L, 0L], driver.Exchanges.Select(e => e.ResponseBytes));
        Assert.Equal(3, driver.Metrics.Value("exchanges"));
    }

    [Fact]
    public void Chunked_bodies_are_counted_through_their_size_lines()
    {
        var driver = new StreamDriver();
        driver.Client("POST /i HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 0);
        driver.Server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1", 10);
        driver.Server("0;ext=1\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n", 20);

        var exchange = Assert.Single(driver.Exchanges);
        Assert.Equal((3L, 21L), (exchange.RequestBytes, exchange.ResponseBytes));
    }

    [Fact]
    public void A_gap_inside_a_body_shortens_it_and_loses_nothing()
    {
        var driver = new StreamDriver();
        driver.Client("POST /p HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789", 0);
        driver.Gap(StreamSide.Client, 90, 1);
        driver.Client("GET /q HTTP/1.1\r\n\r\n", 2);
        driver.Server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n", 10);
        driver.Gap(StreamSide.Server, 16, 11);
        driver.Server("\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", 12);
        driver.Gap(StreamSide.Server, 50, 13);

        Assert.Equal([(100L, 16L), (0L, 50L)], driver.Exchanges.Select(e => (e.RequestBytes, e.ResponseBytes)));
        Assert.Equal("counters: exchanges=2", StreamDriver.RenderCounters(driver.Metrics));
    }

    [Fact]
    public void A_gap_where_a_response_head_was_desyncs_and_drops_the_pending_requests()
    {
        var driver = new StreamDriver();
        driver.Client("GET /q HTTP/1.1\r\n\r\nGET /r HTTP/1.1\r\n\r\n", 0);
        driver.Gap(StreamSide.Server, 40, 10);
        driver.Server("K\r\nContent-Length: 0\r\n\r\n", 11); // the rest of a lost head: not a start line, skipped
        driver.Server(Ok, 12);                              // resynchronised, but nothing is pending any more
        driver.Client("GET /s HTTP/1.1\r\n\r\n", 20);
        driver.Server(Ok, 30);

        Assert.Equal(
            "GET /s HTTP/1.1 host=- status=200 2xx Success start=20 duration=10 req=0 resp=0\n"
            + "counters: exchanges=1 desyncs=1 unmatched_responses=1 unanswered_requests=2",
            driver.Render());
    }

    [Fact]
    public void A_gap_past_a_chunk_loses_the_response_stream_but_emits_its_exchange()
    {
        var driver = new StreamDriver();
        driver.Client("GET /big HTTP/1.1\r\n\r\n", 0);
        driver.Server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n0123456789", 10);
        driver.Gap(StreamSide.Server, 2500, 10);
        driver.Client("GET /next HTTP/1.1\r\n\r\n", 50);
        driver.Server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 70);

        Assert.Equal(
            "GET /big HTTP/1.1 host=- status=200 2xx Success start=0 duration=10 req=0 resp=-1\n"
            + "GET /next HTTP/1.1 host=- status=200 2xx Success start=50 duration=20 req=0 resp=2\n"
            + "counters: exchanges=2 desyncs=1",
            driver.Render());
    }

    [Fact]
    public void A_head_cut_by_a_gap_still_pairs_its_request_line()
    {
        var driver = new StreamDriver();
        driver.Client("GET /with-cookies HTTP/1.1\r\nHost: t\r\nCookie: abc", 0);
        driver.Gap(StreamSide.Client, 3000, 1);
        driver.Client("more cookie\r\n\r\n", 2);
        driver.Server("HTTP/1.1 200 OK\r\nContent-", 30);
        driver.Gap(StreamSide.Server, 10, 31);
        driver.Client("GET /plain HTTP/1.1\r\n\r\n", 100);
        driver.Server(Ok, 120);

        Assert.Equal(
            "GET /with-cookies HTTP/1.1 host=t status=200 2xx Success start=0 duration=30 req=-1 resp=-1\n"
            + "GET /plain HTTP/1.1 host=- status=200 2xx Success start=100 duration=20 req=0 resp=0\n"
            + "counters: exchanges=2 desyncs=2",
            driver.Render());
    }

    [Fact]
    public void An_oversized_head_is_counted_and_its_request_line_paired()
    {
        var driver = new StreamDriver(new HttpOptions { MaxHeadBytes = 256 });
        driver.Client("GET /huge HTTP/1.1\r\nX-Big: " + new string('x', 100), 0);
        driver.Client(new string('x', 300), 1);
        driver.Client(new string('x', 100) + "\r\n\r\n", 2);
        driver.Server("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n", 9);

        Assert.Equal(
            "GET /huge HTTP/1.1 host=- status=431 4xx ClientError start=0 duration=9 req=-1 resp=0\n"
            + "counters: exchanges=1 oversized_heads=1",
            driver.Render());
    }

    [Fact]
    public void An_invalid_head_is_counted_and_the_stream_resynchronises_on_a_request_line()
    {
        var driver = new StreamDriver();
        driver.Client("GET /ok HTTP/1.1\r\n\r\n", 0);
        driver.Server(Ok, 10);
        driver.Client("\x00\x01 binary junk\r\n\r\nGET /hidden HTTP/1.1\r\n\r\n", 20);
        driver.Client("still junk", 25);
        driver.Client("GET /again HTTP/1.1\r\n\r\n", 30);
        driver.Server(Ok, 40);

        Assert.Equal(["/ok", "/again"], driver.Exchanges.Select(e => e.Resource));
        Assert.Equal("counters: exchanges=2 invalid_heads=1", StreamDriver.RenderCounters(driver.Metrics));
    }

    [Fact]
    public void Requests_beyond_the_pipeline_bound_are_counted_and_their_responses_unmatched()
    {
        var driver = new StreamDriver(new HttpOptions { MaxPipelinedRequests = 2 });
        driver.Client("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n", 0);
        driver.Server(Ok + Ok + Ok, 10);

        Assert.Equal(["/1", "/2"], driver.Exchanges.Select(e => e.Resource));
        Assert.Equal("counters: exchanges=2 unmatched_responses=1 pipeline_overflow=1", StreamDriver.RenderCounters(driver.Metrics));
    }

    [Fact]
    public void A_client_fin_keeps_the_connection_only_while_answers_are_due()
    {
        var driver = new StreamDriver();
        Assert.False(driver.Fin(StreamSide.Client, 0));
        driver.Client("GET /a HTTP/1.1\r\n\r\n", 1);
        Assert.True(driver.Fin(StreamSide.Client, 2));
        Assert.False(driver.Fin(StreamSide.Server, 3));
        driver.Server("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", 4);
        Assert.True(driver.Fin(StreamSide.Client, 5)); // the response's body is still coming
        driver.Server("cde", 6);
        Assert.False(driver.Fin(StreamSide.Client, 7));
        Assert.Single(driver.Exchanges);
    }

    [Fact]
    public void Close_ends_a_close_delimited_response_and_counts_unanswered_requests()
    {
        var driver = new StreamDriver();
        driver.Client("GET /old HTTP/1.0\r\n\r\nGET /never HTTP/1.0\r\n\r\n", 1000);
        driver.Server("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part ", 2000);
        driver.Gap(StreamSide.Server, 2989, 2100);
        driver.Close(2200);

        Assert.Equal(
            "GET /old HTTP/1.0 host=- status=200 2xx Success start=1000 duration=1000 req=0 resp=3000\n"
            + "counters: exchanges=1 unanswered_requests=1",
            driver.Render());
    }

    [Fact]
    public void Random_bytes_gaps_and_fins_never_throw()
    {
        var random = new Random(1234);
        var driver = new StreamDriver(new HttpOptions { MaxHeadBytes = 64, MaxPipelinedRequests = 4 });
        var buffer = new byte[300];
        string[] starts = ["GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n", "\r\n", "CONNECT a:1 HTTP/1.1\r\n\r\n", "HTTP/1.1 101 S\r\n\r\n"];
        for (var i = 0; i < 20_000; i++)
        {
            random.NextBytes(buffer);
            var length = random.Next(buffer.Length);
            if (random.Next(3) == 0)
            {
                System.Text.Encoding.ASCII.GetBytes(starts[random.Next(starts.Length)]).CopyTo(buffer, 0);
            }

            var side = (StreamSide)random.Next(2);
            switch (random.Next(20))
            {
                case 0:
                    driver.Gap(side, random.Next(1, 100_000), i);
                    break;
                case 1:
                    driver.Fin(side, i);
                    break;
                default:
                    driver.Data(side, buffer.AsSpan(0, length), i);
                    break;
            }
        }

        driver.Close(20_000);
        Assert.Equal(driver.Metrics.Value("exchanges"), driver.Exchanges.Count);
        Assert.All(driver.Exchanges, e => Assert.Contains(e.Status, (string[])["1xx", "2xx", "3xx", "4xx", "5xx", "other"]));
    }
}
