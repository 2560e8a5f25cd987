using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// The conformance corpus (<see cref="ConformanceCorpus"/>) replayed through real TCP between two pods, over IPv4 and
/// IPv6: a python server answers every request with its entry's response and logs what it answered, a python client
/// sends the requests one per connection, kept alive or pipelined and checks every response byte. The published agent
/// must see every exchange exactly once as the server's <c>in</c> and once as the client's <c>out</c>, with the method,
/// path and status sent, and count no loss.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class ConformanceCorpusTests(InfluxDbServer influx)
{
    [Fact]
    public async Task Every_corpus_exchange_is_seen_once_per_side_with_no_loss_counted()
    {
        var corpus = ConformanceCorpus.Load();
        await using var scenario = AgentScenario.Create(influx);
        var replay = CorpusReplay.StartServer(scenario, corpus);
        // The corpus checks parsing, byte for byte: its matrix parameters would otherwise be masked (see the redaction tests).
        // 290 exchanges in a burst, each checked: every one gets its call-log point.
        await scenario.StartAgentAsync(new Dictionary<string, object> { ["Http"] = new { RedactPaths = false }, ["Red"] = AgentScenario.RedLoggingEveryCall });

        replay.RunClient();
        // The ground truth: the server answered every entry once (the client checked every byte it received).
        Poll.Until(() => replay.Answered.Count >= corpus.Entries.Count, "the server's log of answers", () => string.Join('\n', replay.Answered));
        Assert.Equal(corpus.Entries.Select(e => $"{e.Id}"), replay.Answered.OrderBy(int.Parse));

        var exchanges = 2 * corpus.Entries.Count;
        await scenario.WaitForCallLogAsync(exchanges, TimeSpan.FromSeconds(30));
        Assert.Equal(0, await scenario.StopAgentAsync());
        await AssertEachSeenOncePerSideAsync(scenario, corpus);
        await AgentCounters.AssertExactAsync(scenario, new Dictionary<string, long> { ["exchanges"] = exchanges });
    }

    /// <summary>Like <see cref="AgentScenario.AssertCallLogAsync"/>, but a failure names the corpus entries missed or misread.</summary>
    private static async Task AssertEachSeenOncePerSideAsync(AgentScenario scenario, ConformanceCorpus corpus)
    {
        var calls = await scenario.CallLogAsync();
        var expected = Multiset(corpus.Entries.Select(e => Expected(e)));
        foreach (var (pod, direction) in new[] { (scenario.ServerPod, "in"), (scenario.ClientPod, "out") })
        {
            var seen = Multiset(calls.Where(c => c.Pod == pod && c.Direction == direction).Select(c => new PlannedRequest(c.Method, c.Path, c.Status).ToString()));
            var missed = corpus.Entries.Where(e => seen.GetValueOrDefault(Expected(e)) < expected[Expected(e)]).ToList();
            var extra = seen.Where(s => s.Value > expected.GetValueOrDefault(s.Key)).Select(s => $"{s.Key} x{s.Value}").ToList();
            Assert.True(
                missed.Count == 0 && extra.Count == 0,
                $"{direction} of {pod}: {missed.Count} entries missed or misread:\n  {string.Join("\n  ", missed.Select(e => $"{e} (expected {Expected(e)})"))}\n"
                + $"seen but not sent (or too often):\n  {string.Join("\n  ", extra)}");
        }

        Assert.Equal(2 * corpus.Entries.Count, calls.Count);
        Assert.All(calls, c => Assert.Equal($"{c.Status / 100}xx", c.StatusClass));
        Assert.All(calls, c => Assert.Equal(
            c.Direction == "in" ? (AgentScenario.ServerWorkload, AgentScenario.ClientWorkload) : (AgentScenario.ClientWorkload, AgentScenario.ServerWorkload),
            (c.Workload, c.PeerWorkload)));
    }

    private static string Expected(CorpusEntry entry) => new PlannedRequest(entry.MethodTag, entry.Path, entry.FinalStatus).ToString();

    private static Dictionary<string, int> Multiset(IEnumerable<string> items) => items.CountBy(i => i).ToDictionary();

}
