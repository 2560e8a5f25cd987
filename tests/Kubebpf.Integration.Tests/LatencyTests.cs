using System.Globalization;
using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// A server that takes a known time to answer, called one request at a time. The measured durations are bounded by
/// what physically happened: at least the server's delay, the server's veth inside the client's veth, and the
/// client's veth inside curl's own connected-to-first-byte time. No fixed upper slack: on a loaded 2-core machine the
/// server itself is sometimes late (seen: 540 ms for a 300 ms delay, by curl and by the agent alike).
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class LatencyTests(InfluxDbServer influx)
{
    private const int Port = 8080;
    private const int Requests = 5;
    private const long DelayNs = 300_000_000;

    /// <summary>curl reports times in whole microseconds.</summary>
    private const long CurlResolutionNs = 2_000;

    [Fact]
    public async Task Each_duration_is_between_the_servers_delay_and_what_the_client_saw_and_red_keeps_the_exact_maximum()
    {
        await using var scenario = AgentScenario.Create(influx);
        var script = Path.Combine(scenario.WorkDirectory, "slow_server.py");
        await File.WriteAllTextAsync(script, SlowServer);
        scenario.Pods.Start(
            scenario.Server, "python3", script, Port.ToString(CultureInfo.InvariantCulture), (DelayNs / 1_000_000).ToString(CultureInfo.InvariantCulture));
        PodSockets.WaitForListener(scenario.Server, Port, TimeSpan.FromSeconds(10), () => "python3 slow_server.py did not start");
        await scenario.StartAgentAsync();

        // Per request: status, then when curl's connection was up (before it sent the request; time_pretransfer may come
        // after it) and when it read the first response byte, in seconds.
        var curl = NetworkPods.Exec(scenario.Client,
            $"for i in $(seq {Requests}); do curl -s -o /dev/null -w '%{{http_code}} %{{time_connect}} %{{time_starttransfer}}\\n' " +
            $"http://{scenario.Server.IPv4}:{Port}/slow; done");
        var seen = curl.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')).ToList();
        Assert.Equal(Enumerable.Repeat("200", Requests), seen.Select(fields => fields[0]));
        var clientSeenNs = seen.Select(fields => Nanoseconds(fields[2]) - Nanoseconds(fields[1])).ToList();
        await scenario.WaitForCallLogAsync(2 * Requests, TimeSpan.FromSeconds(15));
        Assert.Equal(0, await scenario.StopAgentAsync());

        await scenario.AssertCallLogAsync([.. Enumerable.Repeat(new PlannedRequest("GET", "/slow", 200), Requests)]);
        var calls = await scenario.CallLogAsync();
        var serverIn = calls.Where(c => c.Pod == scenario.ServerPod).OrderBy(c => c.TimeNs).Select(c => c.DurationNs).ToList();
        var clientOut = calls.Where(c => c.Pod == scenario.ClientPod).OrderBy(c => c.TimeNs).Select(c => c.DurationNs).ToList();
        for (var i = 0; i < Requests; i++)
        {
            Assert.InRange(serverIn[i], DelayNs, clientOut[i]);
            Assert.InRange(clientOut[i], serverIn[i], clientSeenNs[i] + CurlResolutionNs);
        }

        // R.E.D. per 1 s window: every request counted once per series, and the maximum is exact (not from the histogram).
        foreach (var (pod, direction, durations) in new[] { (scenario.ServerPod, "in", serverIn), (scenario.ClientPod, "out", clientOut) })
        {
            foreach (var route in new[] { "*", "/slow" })
            {
                var windows = await scenario.PointsAsync("http_red", $"WHERE pod = '{pod}' AND direction = '{direction}' AND route = '{route}'");
                Assert.Equal(Requests, windows.Sum(w => w["requests"].GetInt64()));
                Assert.Equal(durations.Max() / 1e6, windows.Max(w => w["latency_max_ms"].GetDouble()), 1e-6);
            }
        }
    }

    private static long Nanoseconds(string seconds) => (long)Math.Round(decimal.Parse(seconds, CultureInfo.InvariantCulture) * 1_000_000_000m);

    // HTTP/1.1 with Content-Length, so that a response ends by its length rather than by the connection's close.
    internal const string SlowServer = """
        import http.server, sys, time

        class Slow(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                time.sleep(int(sys.argv[2]) / 1000)
                body = b"slow\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Slow).serve_forever()
        """;
}
