using System.Text;
using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// Each HTTP counter moves, exactly, on the traffic it names, and no other counter moves: real connections between
/// two pods (some over IPv6) against the python conformance server, the published agent observing both veths, so
/// that every exchange and every count is seen twice (the client's <c>out</c>, the server's <c>in</c>). The findings
/// of the conformance issue that the corpus does not cover are here too: tunnel data after CONNECT, and a connection
/// whose first bytes are not HTTP but later are.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class HttpCounterTests(InfluxDbServer influx)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_head_longer_than_MaxHeadBytes_is_counted_oversized_and_its_request_line_still_pairs()
    {
        var plan = Plan(
            [Keepalive(Ok("GET /big HTTP/1.1\r\nHost: server\r\nX-Pad: " + new string('p', 3000) + "\r\n\r\n"), Ok("GET /after HTTP/1.1\r\nHost: server\r\n\r\n"))]);
        await RunAsync(
            plan,
            new { MaxHeadBytes = 1024 },
            [new("GET", "/big", 200), new("GET", "/after", 200)],
            new() { ["exchanges"] = 4, ["oversized_heads"] = 2 });
    }

    [Fact]
    public async Task A_malformed_head_on_an_HTTP_connection_is_counted_invalid()
    {
        // Whitespace between a field name and its colon is invalid (RFC 9112 5.1): the server answers 400 and closes.
        var plan = Plan(
            [Keepalive(
                Ok("GET /ok HTTP/1.1\r\nHost: server\r\n\r\n"),
                Entry("GET /bad HTTP/1.1\r\nHost: server\r\nX-Bad : v\r\n\r\n", "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbad", last: true))]);
        await RunAsync(
            plan,
            null,
            [new("GET", "/ok", 200), new("GET", "/bad", 400)],
            new() { ["exchanges"] = 4, ["invalid_heads"] = 2 },
            ipv6Only: true);
    }

    [Fact]
    public async Task Requests_pipelined_beyond_MaxPipelinedRequests_are_counted_and_their_responses_unmatched()
    {
        var plan = Plan([Pipelined([.. Enumerable.Range(1, 6).Select(i => Ok($"GET /p/{i} HTTP/1.1\r\nHost: server\r\n\r\n"))])]);
        await RunAsync(
            plan,
            new { MaxPipelinedRequests = 4 },
            [.. Enumerable.Range(1, 4).Select(i => new PlannedRequest("GET", $"/p/{i}", 200))],
            new() { ["exchanges"] = 8, ["pipeline_overflow"] = 4, ["unmatched_responses"] = 4 });
    }

    [Fact]
    public async Task Requests_inside_a_CONNECT_tunnel_are_not_parsed_and_the_tunnel_is_counted()
    {
        // The server answers CONNECT with 200 and then, inside the tunnel, answers HTTP again: the agent must not read
        // it. One client waits for the 200 before tunnelling; the other sends its tunnel data with the CONNECT head.
        const string Established = "HTTP/1.1 200 Connection Established\r\n\r\n";
        var plan = Plan(
            [
                Keepalive(
                    Entry("CONNECT api.internal:443 HTTP/1.1\r\nHost: api.internal:443\r\n\r\n", Established),
                    Ok("GET /inside-after-200 HTTP/1.1\r\nHost: api.internal\r\n\r\n"),
                    Ok("POST /inside-too HTTP/1.1\r\nHost: api.internal\r\nContent-Length: 0\r\n\r\n")),
                Pipelined(
                    Entry("CONNECT api.internal:8443 HTTP/1.1\r\nHost: api.internal:8443\r\n\r\n", Established),
                    Ok("GET /inside-optimistic HTTP/1.1\r\nHost: api.internal\r\n\r\n")),
            ]);
        await RunAsync(
            plan,
            null,
            [new("CONNECT", "api.internal:443", 200), new("CONNECT", "api.internal:8443", 200)],
            new() { ["exchanges"] = 4, ["tunnels"] = 4 });
    }

    [Fact]
    public async Task A_request_the_server_closes_without_answering_is_counted_unanswered()
    {
        var plan = Plan([Keepalive(Ok("GET /ok HTTP/1.1\r\nHost: server\r\n\r\n"), Entry("GET /never HTTP/1.1\r\nHost: server\r\n\r\n", "", last: true))]);
        await RunAsync(plan, null, [new("GET", "/ok", 200)], new() { ["exchanges"] = 2, ["unanswered_requests"] = 2 }, ipv6Only: true);
    }

    [Fact]
    public async Task A_response_to_a_request_sent_before_the_agent_attached_is_counted_unmatched()
    {
        await using var scenario = AgentScenario.Create(influx);
        var plan = Plan([Single(Ok("GET /early HTTP/1.1\r\nHost: server\r\n\r\n") with { Hold = true })]);
        var replay = CorpusReplay.StartServer(scenario, plan);
        using var client = replay.StartClient();
        Poll.Until(() => replay.Answered.Contains("held 0"), "the server to hold its answer", () => string.Join('\n', replay.Answered));

        await scenario.StartAgentAsync();
        replay.Release();
        Assert.True(client.WaitForExit(Timeout), "the client did not get its answer");
        Assert.Equal(0, client.ExitCode);

        await AgentCounters.WaitForAsync(scenario, "Http", "unmatched_responses", 2, Timeout);
        Assert.Equal(0, await scenario.StopAgentAsync());
        await scenario.AssertCallLogAsync([]);
        await AgentCounters.AssertExactAsync(scenario, new Dictionary<string, long> { ["unmatched_responses"] = 2 });
    }

    [Fact]
    public async Task A_connection_whose_first_bytes_are_not_HTTP_is_classified_late_and_its_later_requests_are_seen()
    {
        // A made-up greeting and its answer, neither HTTP, then requests on the same connection, seen from its SYN.
        var plan = Plan(
            [Keepalive(
                Entry("\u0000\u0001HELLO kubebpf\r\n\r\n", "\u0000\u0002WELCOME\r\n"),
                Ok("GET /later HTTP/1.1\r\nHost: server\r\n\r\n"),
                Ok("PROPFIND /later/dav HTTP/1.1\r\nHost: server\r\nDepth: 0\r\n\r\n"))]);
        await RunAsync(
            plan,
            null,
            [new("GET", "/later", 200), new("OTHER", "/later/dav", 200)],
            new() { ["exchanges"] = 4 },
            capture: new() { ["late_classified_flows"] = 2 });
    }

    /// <summary>
    /// Serves <paramref name="plan"/>, starts the agent (with <paramref name="http"/> as the Http plugin's options)
    /// and replays the plan; then the call log must hold <paramref name="expected"/> once per side, and the counters be
    /// exactly <paramref name="counters"/> and <paramref name="capture"/> (all others 0).
    /// </summary>
    private async Task RunAsync(
        ConformanceCorpus plan, object? http, IReadOnlyList<PlannedRequest> expected, Dictionary<string, long> counters,
        Dictionary<string, long>? capture = null, bool ipv6Only = false)
    {
        await using var scenario = AgentScenario.Create(influx);
        var replay = CorpusReplay.StartServer(scenario, plan);
        await scenario.StartAgentAsync(http is null ? null : new Dictionary<string, object> { ["Http"] = http });

        replay.RunClient(ipv6Only);
        await scenario.WaitForCallLogAsync(2 * expected.Count, Timeout);
        foreach (var (name, value) in counters)
        {
            await AgentCounters.WaitForAsync(scenario, "Http", name, value, Timeout);
        }

        foreach (var (name, value) in capture ?? [])
        {
            await AgentCounters.WaitForAsync(scenario, "Capture", name, value, Timeout);
        }

        Assert.Equal(0, await scenario.StopAgentAsync());
        await scenario.AssertCallLogAsync(expected);
        await AgentCounters.AssertExactAsync(scenario, counters, capture);
    }

    private static ConformanceCorpus Plan(IReadOnlyList<(bool Pipelined, CorpusEntry[] Entries)> connections)
    {
        var entries = connections.SelectMany(c => c.Entries).Select((e, id) => e with { Id = id }).ToList();
        var next = 0;
        return ConformanceCorpus.Create(
            entries,
            [.. connections.Select(c => new CorpusConnection(c.Pipelined, [.. c.Entries.Select(_ => next++)]))]);
    }

    private static (bool, CorpusEntry[]) Single(CorpusEntry entry) => (false, [entry]);

    private static (bool, CorpusEntry[]) Keepalive(params CorpusEntry[] entries) => (false, entries);

    private static (bool, CorpusEntry[]) Pipelined(params CorpusEntry[] entries) => (true, entries);

    private static CorpusEntry Ok(string request) => Entry(request, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

    private static CorpusEntry Entry(string request, string response, bool last = false) =>
        new(0, "", Encoding.Latin1.GetBytes(request), Encoding.Latin1.GetBytes(response), last);
}
