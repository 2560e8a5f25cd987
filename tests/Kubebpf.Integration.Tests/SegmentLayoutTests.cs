using System.Globalization;
using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// Nothing is lost to segment size or layout: many heads in one write (one GSO segment of several kilobytes), a
/// request line longer than any former capture size, responses pipelined in one write, megabyte bodies between heads
/// on a kept-alive connection, and a head split at every byte boundary. Each is counted exactly against what the
/// server says it answered, on both pods' veths, with no loss counter moving.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class SegmentLayoutTests(InfluxDbServer influx)
{
    private const string Locations = """
        large_client_header_buffers 4 32k;
        client_max_body_size 4m;
        location = /ok { return 200 "ok\n"; }
        location /long/ { return 200 "long\n"; }
        location /upload/ { root UPLOAD_ROOT; dav_methods PUT; create_full_put_path on; }
        location = /big { alias BIG_FILE; }
        location / { return 404 "not found\n"; }
        """;

    private const int MegaByte = 1 << 20;

    /// <summary>Both attachments of the capture: each layout is counted exactly in each.</summary>
    public static TheoryData<string> AttachModes => ["socket", "tc"];

    [Theory]
    [MemberData(nameof(AttachModes))]
    public async Task Sixty_four_pipelined_requests_in_one_write_are_all_seen(string attach)
    {
        // Padded heads: the one write is about 13 KB, far past a single capture chunk.
        var requests = Enumerable.Range(0, 64).Select(i => i % 4 == 3 ? "/missing" : "/ok").ToList();
        await RunAsync(
            attach,
            (scenario, _) => $"python3 {Script(PipelinedClient, scenario)} {scenario.Server.IPv4} 80 {string.Join(',', requests)} 150 0",
            [.. requests.Select(path => new PlannedRequest("GET", path, path == "/ok" ? 200 : 404))]);
    }

    [Theory]
    [MemberData(nameof(AttachModes))]
    public async Task Pipelined_requests_whose_first_write_is_cut_short_are_all_seen(string attach)
    {
        // A sender whose buffer took only part of the burst: 1,800 bytes leave first, the other 11 KB follow as one
        // segment that starts inside a head and is longer than the segments copied whole whatever they start with.
        var requests = Enumerable.Range(0, 64).Select(i => i % 4 == 3 ? "/missing" : "/ok").ToList();
        await RunAsync(
            attach,
            (scenario, _) => $"python3 {Script(PipelinedClient, scenario)} {scenario.Server.IPv4} 80 {string.Join(',', requests)} 150 1800",
            [.. requests.Select(path => new PlannedRequest("GET", path, path == "/ok" ? 200 : 404))]);
    }

    [Theory]
    [MemberData(nameof(AttachModes))]
    public async Task A_twelve_kilobyte_request_line_is_seen_with_its_whole_path(string attach)
    {
        var path = "/long/" + new string('x', 12 * 1024);
        var (calls, _) = await RunAsync(attach, (scenario, _) => $"curl -gsf -o /dev/null http://{scenario.Server.IPv4}{path}", [new("GET", path, 200)]);
        Assert.All(calls, c => Assert.Equal(path, c.Path));
    }

    [Theory]
    [MemberData(nameof(AttachModes))]
    public async Task Responses_pipelined_in_one_write_are_all_paired(string attach)
    {
        const int Requests = 40;
        await using var scenario = AgentScenario.Create(influx, attach: attach);
        var server = Script(BatchingServer, scenario);
        scenario.Pods.Start(scenario.Server, "python3", server, "8080", Requests.ToString(CultureInfo.InvariantCulture)); // the pods kill it
        PodSockets.WaitForListener(scenario.Server, 8080, TimeSpan.FromSeconds(10), () => "(batching server)");
        await scenario.StartAgentAsync();

        var client = Script(PipelinedClient, scenario);
        var paths = Enumerable.Range(0, Requests).Select(i => $"/item/{i}").ToList();
        var output = NetworkPods.Exec(scenario.Client, $"python3 {client} {scenario.Server.IPv4} 8080 {string.Join(',', paths)} 0 0").Output;
        Assert.Equal(Requests, output.Split('\n').Count(line => line.StartsWith("HTTP/1.1 200", StringComparison.Ordinal)));

        await scenario.WaitForCallLogAsync(2 * Requests, TimeSpan.FromSeconds(15));
        Assert.Equal(0, await scenario.StopAgentAsync());
        await scenario.AssertCallLogAsync([.. paths.Select(p => new PlannedRequest("GET", p, 200))]);
        await scenario.AssertNothingLostAsync(2 * Requests);
    }

    [Theory]
    [InlineData(false, "socket")]
    [InlineData(true, "socket")]
    [InlineData(false, "tc")]
    [InlineData(true, "tc")]
    public async Task Megabyte_bodies_between_heads_on_a_kept_alive_connection_lose_nothing(bool text, string attach)
    {
        // Binary (zeros) or text bodies: either way only the ends of a segment inside a body are copied.
        const int Each = 5;
        var (calls, capture) = await RunAsync(
            attach,
            (scenario, body) =>
            {
                var download = Enumerable.Repeat($"-gsf -o /dev/null http://{scenario.Server.IPv4}/big", Each);
                // WebDAV PUT: nginx reads each whole body before it answers.
                var upload = Enumerable.Range(0, Each).Select(i => $"-gsf -o /dev/null -T {body} http://{scenario.Server.IPv4}/upload/{i}");
                return "curl " + string.Join(" --next ", download.Concat(upload));
            },
            [.. Enumerable.Repeat(new PlannedRequest("GET", "/big", 200), Each), .. Enumerable.Range(0, Each).Select(i => new PlannedRequest("PUT", $"/upload/{i}", 201))],
            text ? [.. Enumerable.Range(0, MegaByte).Select(i => (byte)('a' + (i % 26)))] : new byte[MegaByte]);
        Assert.All(calls.Where(c => c.Path == "/big"), c => Assert.Equal(MegaByte, c.ResponseBytes));
        Assert.All(calls.Where(c => c.Path.StartsWith("/upload/", StringComparison.Ordinal)), c => Assert.Equal(MegaByte, c.RequestBytes));
        // The bodies did not cross the ring: copied whole, they alone would take 4 KiB records for all 2 x 10 MiB seen.
        const long wholeRecords = 2L * 2 * Each * MegaByte / 4096;
        Assert.True(capture["packets"] < wholeRecords, $"{capture["packets"]} records: the bodies were copied whole");
    }

    [Theory]
    [MemberData(nameof(AttachModes))]
    public async Task A_head_split_at_every_byte_boundary_is_seen_every_time(string attach)
    {
        // One kept-alive connection; request k goes out as two writes split after byte k.
        const string Head = "GET /ok HTTP/1.1\\r\\nHost: server\\r\\nUser-Agent: split\\r\\n\\r\\n";
        var length = Head.Replace("\\r\\n", "..", StringComparison.Ordinal).Length;
        await RunAsync(
            attach,
            (scenario, _) => $"python3 {Script(SplittingClient, scenario)} {scenario.Server.IPv4} 80 \"{Head}\"",
            [.. Enumerable.Repeat(new PlannedRequest("GET", "/ok", 200), length - 1)]);
    }

    /// <summary>
    /// Starts nginx and the agent (capture attached by <paramref name="attach"/>), runs the client command <paramref name="command"/> makes (given the scenario and the
    /// path of a file of <paramref name="bodyBytes"/>, by default 1 MiB of zeros) in the client pod, checks nginx
    /// answered <paramref name="expected"/> and that the call log holds each exactly once per side with no loss counted;
    /// returns the call log and the capture's last counters.
    /// </summary>
    private async Task<(IReadOnlyList<CallLogPoint> Calls, IReadOnlyDictionary<string, long> Capture)> RunAsync(string attach, Func<AgentScenario, string, string> command, IReadOnlyList<PlannedRequest> expected, byte[]? bodyBytes = null)
    {
        await using var scenario = AgentScenario.Create(influx, attach: attach);
        var body = Path.Combine(scenario.WorkDirectory, "body.bin");
        await File.WriteAllBytesAsync(body, bodyBytes ?? new byte[MegaByte]);
        var uploads = Directory.CreateDirectory(Path.Combine(scenario.WorkDirectory, "uploads")).FullName;
        using var nginx = PodNginx.Start(
            scenario.Pods, scenario.Server, Locations.Replace("BIG_FILE", body, StringComparison.Ordinal).Replace("UPLOAD_ROOT", uploads, StringComparison.Ordinal));
        await scenario.StartAgentAsync();

        NetworkPods.Exec(scenario.Client, command(scenario, body));
        var served = await nginx.ReadAccessLogAsync(expected.Count, TimeSpan.FromSeconds(15));
        Assert.Equal(TrafficPlan.Sorted(expected), TrafficPlan.Sorted(served.Select(e => new PlannedRequest(e.Method, e.Uri, e.Status))));

        await scenario.WaitForCallLogAsync(2 * expected.Count, TimeSpan.FromSeconds(15));
        Assert.Equal(0, await scenario.StopAgentAsync());
        await scenario.AssertNothingLostAsync(2 * expected.Count);
        await scenario.AssertCallLogAsync(expected);
        return (await scenario.CallLogAsync(), await scenario.LastAgentMetricsAsync("Capture"));
    }

    /// <summary>Writes a python3 script into the scenario's folder; returns its path.</summary>
    private static string Script(string source, AgentScenario scenario)
    {
        var path = Path.Combine(scenario.WorkDirectory, $"script-{(uint)source.GetHashCode(StringComparison.Ordinal):x8}.py");
        File.WriteAllText(path, source);
        return path;
    }

    // argv: host port comma-separated-paths pad-bytes first-write-bytes. All requests in one sendall (or, when
    // first-write-bytes is not 0, that many bytes on their own first and the rest in one sendall), the last asking the
    // server to close; prints every status line until the server closes.
    private const string PipelinedClient = """
        import re, socket, sys, time
        host, port, paths, pad, first = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), int(sys.argv[4]), int(sys.argv[5])
        padding = ("X-Pad: " + "p" * pad + "\r\n") if pad else ""
        heads = []
        for i, path in enumerate(paths):
            close = "Connection: close\r\n" if i == len(paths) - 1 else ""
            heads.append(f"GET {path} HTTP/1.1\r\nHost: server\r\n{padding}{close}\r\n")
        burst = "".join(heads).encode()
        with socket.create_connection((host, port), timeout=10) as s:
            if first:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.sendall(burst[:first])
                time.sleep(0.05)
                burst = burst[first:]
            s.sendall(burst)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        for status in re.findall(rb"HTTP/1\.1 \d{3}", data):
            print(status.decode())
        """;

    // argv: port requests. Reads that many requests from one connection, then answers all of them in one write.
    private const string BatchingServer = """
        import socket, sys
        port, expected = int(sys.argv[1]), int(sys.argv[2])
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("0.0.0.0", port))
        listener.listen(1)
        while True:
            conn, _ = listener.accept()
            with conn:
                data = b""
                while data.count(b"\r\n\r\n") < expected:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                body = b"done\n"
                answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                conn.sendall(answer * data.count(b"\r\n\r\n"))
        """;

    // argv: host port head (with \r\n escapes). On one connection, sends the head once per split point as two writes
    // (TCP_NODELAY and a pause, so they leave as two segments) and reads each response by its Content-Length.
    private const string SplittingClient = """
        import socket, sys, time
        host, port = sys.argv[1], int(sys.argv[2])
        head = sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
        with socket.create_connection((host, port), timeout=10) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            reader = s.makefile("rb")
            for split in range(1, len(head)):
                s.sendall(head[:split])
                time.sleep(0.003)
                s.sendall(head[split:])
                status = reader.readline()
                assert status.startswith(b"HTTP/1.1 200"), status
                length = 0
                while (line := reader.readline()) != b"\r\n":
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                reader.read(length)
        """;
}
