using System.Globalization;
using System.Text.RegularExpressions;
using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests.Dns;

/// <summary>One query as dnsmasq logged it (<c>--log-queries=extra</c>): who asked, what, and what dnsmasq answered.</summary>
public sealed record LoggedQuery(string Client, string Type, string Name, string Rcode);

/// <summary>
/// dnsmasq in a pod of an <see cref="AgentScenario"/> (its server pod), on port 53 of the pod's addresses, authoritative
/// for <c>kb.test</c> (anything else REFUSED: no upstream), logging every query and its answer as the ground truth;
/// beside it, a delaying UDP forwarder in front of dnsmasq (<see cref="DelayPort"/>) and a resolver that never answers
/// (<see cref="SilentPort"/>). Killed with the scenario's pods.
/// </summary>
public sealed partial class DnsResolverPod
{
    public const string Zone = "kb.test";
    public const string Web = "web.kb.test";
    public const string WebIPv4 = "192.0.2.10";
    public const string WebIPv6 = "2001:db8::10";
    public const string Service = "_http._tcp.kb.test";

    /// <summary>A TXT record of about 760 bytes: over 512, so a UDP answer without EDNS is truncated and the client retries over TCP.</summary>
    public const string Big = "big.kb.test";
    public const int DelayPort = 5300;
    public const int SilentPort = 5301;

    private readonly string _log;
    private readonly string _forwarderLog;

    private DnsResolverPod(AgentScenario scenario, string log, string forwarderLog)
    {
        Scenario = scenario;
        _log = log;
        _forwarderLog = forwarderLog;
    }

    public AgentScenario Scenario { get; }

    public Pod Pod => Scenario.Server;

    /// <summary>The resolver ports the agent must treat as DNS.</summary>
    public static ushort[] Ports => [53, DelayPort, SilentPort];

    /// <summary>
    /// Starts dnsmasq, and the forwarder delaying each query by <paramref name="delayMs"/> ms, in the scenario's server
    /// pod; <paramref name="hostRecords"/> adds local names (name, IPv4 address) to the zone.
    /// </summary>
    public static DnsResolverPod Start(AgentScenario scenario, int delayMs = 50, IReadOnlyDictionary<string, string>? hostRecords = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var pod = scenario.Server;
        var directory = scenario.WorkDirectory;
        var log = Path.Combine(directory, "dnsmasq-queries.log");
        var forwarderLog = Path.Combine(directory, "forwarder.log");
        var config = Path.Combine(directory, "dnsmasq.conf");
        File.WriteAllText(config, $"""
            no-resolv
            no-hosts
            user=root
            port=53
            listen-address={pod.IPv4},{pod.IPv6}
            bind-interfaces
            local=/{Zone}/
            host-record={Web},{WebIPv4},{WebIPv6}
            srv-host={Service},{Web},80
            txt-record={Big},"{new string('x', 250)}","{new string('y', 250)}","{new string('z', 250)}"
            log-queries=extra
            log-facility={log}
            pid-file=
            """ + string.Concat((hostRecords ?? new Dictionary<string, string>()).Select(r => $"\nhost-record={r.Key},{r.Value}")));
        scenario.Pods.Start(pod, "dnsmasq", "--keep-in-foreground", $"--conf-file={config}");
        PodSockets.WaitForUdpListener(pod, 53, TimeSpan.FromSeconds(10), () => File.Exists(log) ? File.ReadAllText(log) : "no dnsmasq log");
        foreach (var (port, delay) in new[] { (DelayPort, delayMs), (SilentPort, -1) })
        {
            PodPython.Start(scenario.Pods, pod, Forwarder,
                pod.IPv4, port.ToString(CultureInfo.InvariantCulture), pod.IPv4, "53", delay.ToString(CultureInfo.InvariantCulture), forwarderLog);
            PodSockets.WaitForUdpListener(pod, port, TimeSpan.FromSeconds(10), () => "the forwarder did not start");
        }

        return new DnsResolverPod(scenario, log, forwarderLog);
    }

    /// <summary>Every query dnsmasq logged so far, with its answer's response code.</summary>
    public IReadOnlyList<LoggedQuery> Queries()
    {
        var queries = new Dictionary<string, (string Client, string Type, string Name)>(StringComparer.Ordinal);
        var rcodes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.Exists(_log) ? File.ReadAllLines(_log) : [])
        {
            if (QueryLine().Match(line) is { Success: true } query)
            {
                queries[query.Groups["key"].Value] = (query.Groups["client"].Value, query.Groups["type"].Value, query.Groups["name"].Value);
            }
            else if (ReplyLine().Match(line) is { Success: true } reply && reply.Groups["rcode"].Success)
            {
                rcodes[reply.Groups["key"].Value] = reply.Groups["rcode"].Value;
            }
        }

        return [.. queries.Select(q => new LoggedQuery(q.Value.Client, q.Value.Type, q.Value.Name, rcodes.GetValueOrDefault(q.Key, "NOERROR")))];
    }

    /// <summary>Waits until dnsmasq logged <paramref name="count"/> queries from <paramref name="client"/> (an address).</summary>
    public IReadOnlyList<LoggedQuery> WaitForQueries(int count, params string[] client)
    {
        Poll.Until(
            () => Queries().Count(q => client.Contains(q.Client)) >= count,
            $"dnsmasq to log {count} queries from {string.Join(", ", client)}",
            () => $"{Queries().Count} logged");
        return Queries();
    }

    /// <summary>The forwarder's log, in the order it answered: how long it held each query (from receiving it to sending the answer), in ns.</summary>
    public IReadOnlyList<long> ForwarderHolds() =>
        [
            .. (File.Exists(_forwarderLog) ? File.ReadAllLines(_forwarderLog) : [])
                .Select(line => line.Split(' '))
                .Where(fields => fields.Length == 2 && fields[1] != "dropped")
                .Select(fields => long.Parse(fields[1], CultureInfo.InvariantCulture)),
        ];

    /// <summary>Queries the silent resolver received (and dropped).</summary>
    public int SilentlyDropped() => (File.Exists(_forwarderLog) ? File.ReadAllLines(_forwarderLog) : []).Count(line => line.EndsWith(" dropped", StringComparison.Ordinal));

    // "<time> dnsmasq[<pid>]: <serial> <client>/<port> query[<type>] <name> from <client>", then the answer's lines with
    // the same serial and client port ("config <name> is NXDOMAIN", "config error is REFUSED (...)", "... is <address>").
    [GeneratedRegex(@"dnsmasq\[\d+\]: (?<key>\d+ [^/ ]+/\d+) query\[(?<type>[A-Z0-9]+)\] (?<name>\S+) from (?<client>\S+)$")]
    private static partial Regex QueryLine();

    [GeneratedRegex(@"dnsmasq\[\d+\]: (?<key>\d+ [^/ ]+/\d+) (config|reply|cached) \S+ is (?<rcode>NXDOMAIN|REFUSED)?")]
    private static partial Regex ReplyLine();

    /// <summary>
    /// A UDP resolver stand-in: each query is held for argv[5] ms from when the kernel received it, forwarded to the
    /// resolver at argv[3]:argv[4], and its answer sent back; a negative delay drops every query. Logs "id hold_ns" or
    /// "id dropped" per query to argv[6]. The hold is measured between the kernel's software timestamps of the query's
    /// receipt and of the answer's transmission (SO_TIMESTAMPING), so that this process being scheduled late on a busy
    /// machine is not mistaken for the agent's error.
    /// </summary>
    private const string Forwarder = """
        import socket, struct, sys, threading, time
        listen, port, upstream, upstream_port, delay_ms, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
        SO_TIMESTAMPING = 37
        TX_SOFTWARE, RX_SOFTWARE, SOFTWARE = 1 << 1, 1 << 3, 1 << 4
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING, TX_SOFTWARE | RX_SOFTWARE | SOFTWARE)
        server.bind((listen, port))
        lock = threading.Lock()
        log = open(log_path, "a", buffering=1)

        def write(line):
            with lock:
                log.write(line + "\n")

        def stamp(ancillary):
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPING:
                    seconds, nanoseconds = struct.unpack("qq", data[:16])
                    return seconds * 1_000_000_000 + nanoseconds
            return None

        def sent_at():
            for _ in range(400):
                try:
                    _, ancillary, _, _ = server.recvmsg(1, 1024, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
                    return stamp(ancillary)
                except BlockingIOError:
                    time.sleep(0.0005)
            raise SystemExit("no transmit timestamp")

        def answer(query, client, received_ns):
            wake = received_ns + delay_ms * 1_000_000
            while (left := wake - time.time_ns()) > 0:
                time.sleep(left / 1e9)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as forward:
                forward.settimeout(2)
                forward.sendto(query, (upstream, upstream_port))
                reply, _ = forward.recvfrom(4096)
            server.sendto(reply, client)
            write(f"{struct.unpack('>H', query[:2])[0]} {sent_at() - received_ns}")

        while True:
            query, ancillary, _, client = server.recvmsg(4096, 1024)
            received_ns = stamp(ancillary) or time.time_ns()
            if delay_ms < 0:
                write(f"{struct.unpack('>H', query[:2])[0]} dropped")
                continue
            threading.Thread(target=answer, args=(query, client, received_ns), daemon=True).start()
        """;
}
