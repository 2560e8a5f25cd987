using Kubebpf.Dns.Parsing;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Protocols;
using static Kubebpf.Dns.Tests.DnsHarness;

namespace Kubebpf.Dns.Tests;

public class DnsConversationTests
{
    [Fact]
    public void A_query_and_its_answer_make_one_exchange_with_latency_answers_and_address()
    {
        var dns = new DnsHarness();
        var flow = dns.Udp();
        Send(flow, DnsWire.Query(42, "web.shop"), 1_000);
        Send(flow, DnsWire.Answer(42, "web.shop", DnsWire.A, 0, DnsWire.Address("10.1.0.9"), DnsWire.Address("10.1.0.10")), 251_000, StreamSide.Server);

        var exchange = Assert.Single(dns.Exchanges);
        Assert.Equal(("A", "web.shop", 0, "NOERROR", ExchangeOutcome.Success, 1_000L, 250_000L),
            (exchange.Operation, exchange.Resource, exchange.Code, exchange.Status, exchange.Outcome, exchange.StartNs, exchange.DurationNs));
        Assert.Equal(new DnsDetails("udp", 2, false, "10.1.0.9", false), exchange.Details);
        Assert.False(flow.OnTick(2 * Second));
    }

    [Theory]
    [InlineData(3, "NXDOMAIN", ExchangeOutcome.ClientError)]
    [InlineData(2, "SERVFAIL", ExchangeOutcome.Error)]
    [InlineData(5, "REFUSED", ExchangeOutcome.Error)]
    [InlineData(1, "FORMERR", ExchangeOutcome.ClientError)]
    [InlineData(15, "OTHER", ExchangeOutcome.Error)]
    public void Response_codes_name_the_status_and_the_outcome(int rcode, string status, ExchangeOutcome outcome)
    {
        var dns = new DnsHarness();
        var flow = dns.Udp();
        Send(flow, DnsWire.Query(1, "x.example"), 0);
        Send(flow, DnsWire.Answer(1, "x.example", DnsWire.A, rcode), 10, StreamSide.Server);

        Assert.Equal((status, outcome, rcode), (dns.Exchanges[0].Status, dns.Exchanges[0].Outcome, dns.Exchanges[0].Code));
    }

    [Fact]
    public void An_unanswered_query_times_out_at_the_timeout_not_before()
    {
        var dns = new DnsHarness();
        var flow = dns.Udp();
        Send(flow, DnsWire.Query(5, "slow.example", DnsWire.Aaaa), Second);

        Assert.True(flow.OnTick(Second + 5 * Second - 1));
        Assert.Empty(dns.Exchanges);
        Assert.False(flow.OnTick(Second + 5 * Second));

        var exchange = Assert.Single(dns.Exchanges);
        Assert.Equal(("AAAA", "slow.example", -1, DnsNames.Timeout, ExchangeOutcome.Timeout, 5 * Second),
            (exchange.Operation, exchange.Resource, exchange.Code, exchange.Status, exchange.Outcome, exchange.DurationNs));
        Assert.Equal(1, dns.Metrics.Value("timeouts"));
        Send(flow, DnsWire.Answer(5, "slow.example", DnsWire.Aaaa, 0), 7 * Second, StreamSide.Server);
        Assert.Equal(1, dns.Metrics.Value("unmatched_answers"));
    }

    [Fact]
    public void Duplicate_answers_and_retransmitted_queries_are_counted()
    {
        var dns = new DnsHarness();
        var flow = dns.Udp();
        Send(flow, DnsWire.Query(8, "a.example"), 0);
        Send(flow, DnsWire.Query(8, "a.example"), 100);
        Send(flow, DnsWire.Answer(8, "a.example", DnsWire.A, 0), 300, StreamSide.Server);
        Send(flow, DnsWire.Answer(8, "a.example", DnsWire.A, 0), 400, StreamSide.Server);

        Assert.Equal(300, Assert.Single(dns.Exchanges).DurationNs);
        Assert.Equal((1L, 1L), (dns.Metrics.Value("retransmitted_queries"), dns.Metrics.Value("unmatched_answers")));
    }

    [Fact]
    public void Bad_messages_are_counted_never_thrown()
    {
        var dns = new DnsHarness();
        var flow = dns.Udp();
        Send(flow, [1, 2, 3], 0);
        Send(flow, DnsWire.Header(1, 0x0100, 0, 0), 0);
        Send(flow, [.. DnsWire.Header(1, 0x0100, 1, 0), 0xC0, 12, 0, 1, 0, 1], 0);

        Assert.Empty(dns.Exchanges);
        Assert.Equal(3, dns.Metrics.Value("malformed_messages"));
    }

    [Fact]
    public void Pending_queries_are_bounded_per_flow()
    {
        var dns = new DnsHarness(new DnsOptions { MaxPendingQueries = 2 });
        var flow = dns.Udp();
        for (ushort id = 0; id < 5; id++)
        {
            Send(flow, DnsWire.Query(id, "a.example"), id);
        }

        Assert.Equal(3, dns.Metrics.Value("pending_overflow"));
        flow.OnClose(1_000);
        Assert.Equal(2, dns.Metrics.Value("unanswered_queries"));
    }

    [Fact]
    public void Answered_addresses_are_learned_for_their_ttl_at_least_the_minimum()
    {
        var now = 0L;
        var dns = new DnsHarness(new DnsOptions { MinNameLifetime = TimeSpan.FromSeconds(10) });
        var names = new Names.LearnedNames(dns.Options, new Sdk.Pipeline.Counter("d", "d"), () => now);
        names.Learn(Endpoint("10.9.0.1"), "api.example.com", 60, 0);
        names.Learn(Endpoint("fd00::9"), "v6.example.com", 0, 0);

        now = 9 * Second;
        Assert.Equal(("api.example.com", "v6.example.com"), (names.ResolveName(Endpoint("10.9.0.1", 443)), names.ResolveName(Endpoint("fd00::9"))));
        now = 10 * Second;
        Assert.Null(names.ResolveName(Endpoint("fd00::9")));
        Assert.Equal("api.example.com", names.ResolveName(Endpoint("::ffff:10.9.0.1")));
        now = 60 * Second;
        Assert.Null(names.ResolveName(Endpoint("10.9.0.1")));
    }

    [Fact]
    public void The_learned_table_is_bounded_and_makes_room_by_dropping_expired_names()
    {
        var dropped = new Sdk.Pipeline.Counter("d", "d");
        var names = new Names.LearnedNames(new DnsOptions { MaxLearnedNames = 2, MinNameLifetime = TimeSpan.Zero }, dropped, () => 0);
        names.Learn(Endpoint("10.0.0.1"), "a", 1, 0);
        names.Learn(Endpoint("10.0.0.2"), "b", 100, 0);
        names.Learn(Endpoint("10.0.0.3"), "c", 100, 0);
        Assert.Equal((2, 1L), (names.Count, dropped.Value));

        names.Learn(Endpoint("10.0.0.3"), "c", 100, 2 * Second);
        Assert.Equal((2, 1L, "c"), (names.Count, dropped.Value, names.ResolveName(Endpoint("10.0.0.3"))));
        names.Learn(Endpoint("10.0.0.4"), "d", 100, 2 * Second + 1);
        Assert.Equal((2, 2L), (names.Count, dropped.Value));
    }

    [Fact]
    public void Answers_on_a_flow_teach_the_plugin_s_peer_names()
    {
        var dns = new DnsHarness();
        var flow = dns.Udp();
        var now = Names.LearnedNames.MonotonicNowNs();
        Send(flow, DnsWire.Query(3, "db.example.org", DnsWire.Aaaa), now);
        Send(flow, DnsWire.Answer(3, "db.example.org", DnsWire.Aaaa, 0, DnsWire.Address("2001:db8::7")), now + 10, StreamSide.Server);

        Assert.Equal("db.example.org", dns.State.Names.ResolveName(Endpoint("2001:db8::7")));
        Assert.Equal(1, dns.Metrics.Value("learned_names"));
    }

    [Fact]
    public void Tcp_messages_behind_their_length_pair_whole_split_or_several_per_segment()
    {
        var dns = new DnsHarness();
        var connection = dns.Tcp();
        byte[] queries = [.. DnsWire.Tcp(DnsWire.Query(1, "a.example")), .. DnsWire.Tcp(DnsWire.Query(2, "b.example", DnsWire.Aaaa))];
        Assert.Equal(queries.Length, connection.OnData(new StreamChunk(StreamSide.Client, 100, 100), queries));

        var answer = DnsWire.Tcp(DnsWire.Answer(2, "b.example", DnsWire.Aaaa, 3));
        Assert.Equal(0, connection.OnData(new StreamChunk(StreamSide.Server, 200, 200), answer.AsSpan(0, 1)));
        Assert.Equal(0, connection.OnData(new StreamChunk(StreamSide.Server, 200, 250), answer.AsSpan(0, 9)));
        Assert.Equal(answer.Length, connection.OnData(new StreamChunk(StreamSide.Server, 200, 300), answer));
        Assert.True(connection.OnFin(StreamSide.Client, 400), "a query still waits for its answer");
        connection.OnClose(500);

        var exchange = Assert.Single(dns.Exchanges);
        Assert.Equal(("b.example", "NXDOMAIN", 100L), (exchange.Resource, exchange.Status, exchange.DurationNs));
        Assert.Equal("tcp", ((DnsDetails)exchange.Details!).Transport);
        Assert.Equal(1, dns.Metrics.Value("unanswered_queries"));
    }

    private static NetworkEndpoint Endpoint(string address, ushort port = 0) => NetworkEndpoint.From(System.Net.IPAddress.Parse(address), port);
}
