using System.Text.Json;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// Exact checks of the agent's own counters (<c>kubebpf_agent</c>) of its <c>Capture</c> and <c>Http</c> components:
/// the counters a test names have exactly its values, and every other one listed here is 0.
/// </summary>
internal static class AgentCounters
{
    /// <summary>The capture's loss counters, and <c>unclassified_flows</c>: a test's traffic is all HTTP.</summary>
    private static readonly string[] CaptureCounters =
    [
        "ringbuf_full", "dropped_records", "truncated", "unsupported_ip", "stream_gaps", "buffer_overflows", "late_classified_flows",
        "evicted_flows", "parser_failures", "unclassified_flows",
    ];

    /// <summary>Every counter of the HTTP parser.</summary>
    private static readonly string[] HttpCounters =
    [
        "exchanges", "desyncs", "unmatched_responses", "unanswered_requests", "invalid_heads", "oversized_heads", "pipeline_overflow", "tunnels",
    ];

    /// <summary>
    /// Asserts the last flush's counters: the HTTP ones are <paramref name="http"/> (absent: 0), the capture's are
    /// <paramref name="capture"/> (absent: 0), with the capture's <c>exchanges</c> equal to HTTP's and both
    /// interfaces attached.
    /// </summary>
    public static async Task AssertExactAsync(
        AgentScenario scenario, IReadOnlyDictionary<string, long> http, IReadOnlyDictionary<string, long>? capture = null)
    {
        capture ??= new Dictionary<string, long>();
        var unknown = http.Keys.Except(HttpCounters).Concat(capture.Keys.Except(CaptureCounters)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Not a counter checked here: {string.Join(", ", unknown)}");
        }

        var expectedHttp = HttpCounters.ToDictionary(name => name, name => http.GetValueOrDefault(name));
        var expectedCapture = CaptureCounters.ToDictionary(name => name, name => capture.GetValueOrDefault(name));
        expectedCapture["exchanges"] = expectedHttp["exchanges"];
        expectedCapture["attached_interfaces"] = 2;

        var actualHttp = await scenario.LastAgentMetricsAsync("Http");
        var actualCapture = await scenario.LastAgentMetricsAsync("Capture");
        Assert.Equal(expectedHttp, expectedHttp.Keys.ToDictionary(name => name, name => actualHttp.GetValueOrDefault(name, -1)));
        Assert.Equal(expectedCapture, expectedCapture.Keys.ToDictionary(name => name, name => actualCapture.GetValueOrDefault(name, -1)));
    }

    /// <summary>Waits until the agent has flushed <paramref name="counter"/> of <paramref name="component"/> at <paramref name="value"/> or more.</summary>
    public static async Task WaitForAsync(AgentScenario scenario, string component, string counter, long value, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var latest = -1L;
        while (DateTime.UtcNow < deadline)
        {
            latest = await LatestAsync(scenario, component, counter);
            if (latest >= value)
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"{component}'s {counter} did not reach {value} within {timeout.TotalSeconds:0} s (last flushed: {latest}).");
    }

    private static async Task<long> LatestAsync(AgentScenario scenario, string component, string counter)
    {
        try
        {
            var points = await scenario.PointsAsync("kubebpf_agent", $"WHERE component = '{component}'");
            return points.Count > 0 && points[^1].TryGetValue(counter, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : -1;
        }
        catch (InvalidOperationException e) when (e.Message.Contains("database not found", StringComparison.Ordinal))
        {
            return -1; // the sink creates it with its first write
        }
    }
}
