using System.Diagnostics;
using System.Globalization;
using Kubebpf.Testing;
using Xunit.Abstractions;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// Many connections each holding an unfinished HTTP head, against the real agent in a memory-limited cgroup: the flows'
/// kept bytes stay within <c>Flows:KeptBytesBudget</c>, every head is either kept or dropped and counted, the agent
/// stays under its limit, and exchanges after the flood are still counted exactly.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class MemoryFloodTests(InfluxDbServer influx, ITestOutputHelper output)
{
    private const int Connections = 20_000;
    private const int FloodPort = 8080;
    private const long Budget = 8L << 20;

    // What the capture rents for one head of HeadBytes: the pool's next power of two.
    private const int HeadBytes = 1300;
    private const int BufferPerHead = 2048;

    private const long MemoryLimit = 384L << 20; // below the DaemonSet's 512 Mi
    private const int RequestsAfter = 50;

    // Never accepts: the kernel completes every handshake into the (long) accept queue and holds the bytes, with no fd each.
    private const string HoldingServer = """
        import socket, sys, time
        open('/proc/sys/net/core/somaxconn', 'w').write('65535')
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(65535)
        time.sleep(3600)
        """;

    // Opens the connections, sends each an unfinished head (one segment), keeps them open (the pods kill it).
    private const string Flooder = """
        import resource, socket, sys, time
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        host, port, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        start = b'GET /flood HTTP/1.1\r\nHost: flood\r\nX-Pad: '
        head = start + b'a' * (size - len(start))
        held = []
        for i in range(count):
            c = socket.create_connection((host, port))
            c.sendall(head)
            held.append(c)
            time.sleep(0.002)  # about 500 connections a second each: a flood, not a burst the ring buffer cannot take
        open(sys.argv[5], 'w').write('sent %d' % len(held))
        time.sleep(3600)
        """;

    [Fact]
    public async Task Unfinished_heads_on_20000_connections_stay_within_the_byte_budget_counted_and_the_agent_under_its_memory_limit()
    {
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
        PodPython.Start(scenario.Pods, scenario.Server, HoldingServer, FloodPort.ToString(CultureInfo.InvariantCulture));
        PodSockets.WaitForListener(scenario.Server, FloodPort, TimeSpan.FromSeconds(10), () => "the holding server did not listen");
        var interfaces = scenario.Pods.Pods.Select(p => p.HostInterface).ToArray();
        using var cgroup = MemoryCgroup.Create($"kubebpf-flood-{scenario.Pods.Prefix}", MemoryLimit);
        var agent = await scenario.StartAgentAsync(
            new Dictionary<string, object> { ["Capture"] = new { Interfaces = interfaces, PeerSideInterfaces = interfaces, Flows = new { KeptBytesBudget = Budget, IdleTimeout = "00:10:00" } } },
            cgroup: cgroup.Path);

        // Two processes: the file limit here may be as low as 20000 descriptors per process.
        var markers = Enumerable.Range(0, 2).Select(i => Path.Combine(scenario.WorkDirectory, $"flooder{i}.done")).ToList();
        var flooders = markers.Select(marker => PodPython.Start(scenario.Pods, scenario.Client, Flooder,
            scenario.Server.IPv4, FloodPort.ToString(CultureInfo.InvariantCulture), (Connections / 2).ToString(CultureInfo.InvariantCulture),
            HeadBytes.ToString(CultureInfo.InvariantCulture), marker)).ToList();
        var flooding = Stopwatch.StartNew();
        while (!markers.All(File.Exists))
        {
            Assert.True(flooding.Elapsed < TimeSpan.FromMinutes(3) && !flooders.Any(f => f.HasExited), "the flooders did not open their connections");
            await Task.Delay(200);
        }

        Assert.All(markers, marker => Assert.Equal($"sent {Connections / 2}", File.ReadAllText(marker)));

        // Every head is kept (one buffer each) or dropped and counted: nothing in between. Each connection is a flow on
        // both observed veths (the client's and the server's), so there are two heads per connection.
        IReadOnlyDictionary<string, long> capture = new Dictionary<string, long>();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            capture = await scenario.LastAgentMetricsAsync("Capture");
            if (capture["kept_bytes_refused"] + capture["kept_bytes"] / BufferPerHead == 2 * Connections)
            {
                break;
            }

            await Task.Delay(500);
        }

        Assert.False(agent.HasExited, "the agent died during the flood:\n" + agent.StandardError);
        Assert.True(
            capture["kept_bytes_refused"] + (capture["kept_bytes"] / BufferPerHead) == 2 * Connections,
            $"heads kept + refused != {2 * Connections}; peak {cgroup.PeakBytes >> 20} MiB; capture counters: {string.Join(' ', capture.Where(c => c.Value != 0).Select(c => $"{c.Key}={c.Value}"))}");
        Assert.Equal(0, capture["kept_bytes"] % BufferPerHead);
        Assert.InRange(capture["kept_bytes"], Budget - BufferPerHead + 1, Budget);
        Assert.Equal(0, capture["evicted_flows"]);
        Assert.Equal(0, capture["ringbuf_full"] + capture["dropped_records"]);

        // After the flood: exchanges are counted exactly.
        NetworkPods.Exec(scenario.Client, $"for i in $(seq {RequestsAfter}); do curl -sf -o /dev/null http://{scenario.Server.IPv4}/ok || exit 1; done");
        await scenario.WaitForCallLogAsync(2 * RequestsAfter, TimeSpan.FromSeconds(30));
        Assert.Equal(2 * RequestsAfter, await scenario.CallLogWeightAsync()); // what the call log stands for, whatever the policy kept

        var peak = cgroup.PeakBytes;
        output.WriteLine(
            $"{Connections} connections with a {HeadBytes}-byte unfinished head: kept {capture["kept_bytes"]} bytes ({capture["kept_bytes"] / BufferPerHead} heads), " +
            $"refused {capture["kept_bytes_refused"]}; agent peak memory {peak / (1 << 20)} MiB (cgroup limit {MemoryLimit >> 20} MiB, failcnt {cgroup.FailCount})");
        Assert.True(peak < MemoryLimit, $"peak {peak} bytes reached the limit");
        Assert.Equal(0, await scenario.StopAgentAsync());
    }
}
