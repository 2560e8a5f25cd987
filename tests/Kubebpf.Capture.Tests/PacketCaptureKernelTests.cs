using Kubebpf.Capture.Capture;
using Kubebpf.Testing;

namespace Kubebpf.Capture.Tests;

/// <summary>The capture component end to end: real pods, nginx, curl, interface rescans.</summary>
[Trait("Category", "Kernel")]
public sealed class PacketCaptureKernelTests
{
    private const int Requests = 10;

    [Theory]
    [InlineData(PacketCaptureOptions.SocketAttach)]
    [InlineData(PacketCaptureOptions.TcAttach)]
    public void Packets_arrive_with_direction_and_interface_name_on_both_pods_veths(string attach)
    {
        KernelTest.RequireRoot();
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        using var nginx = PodNginx.Start(pods, server, """location / { return 200 "hello"; }""");
        var options = new PacketCaptureOptions { Attach = attach, Interfaces = [pods.Prefix + "h*"], PeerSideInterfaces = [pods.Prefix + "h*"], RingBufferBytes = 1 << 20 };
        using var capture = new PacketCapture(options, new ListLogger());
        capture.Start();
        Assert.Equal([server.HostInterface, client.HostInterface], capture.AttachedInterfaces.Order());

        var consumer = new CollectingConsumer();
        using var cts = new CancellationTokenSource();
        var runner = new Thread(() => capture.Run(consumer, cts.Token));
        runner.Start();
        NetworkPods.Exec(client, $"for i in $(seq {Requests}); do curl -sf -o /dev/null http://{server.IPv4}/ || exit 1; done");
        Poll.Until(() => consumer.Count(client.HostInterface, "HTTP/1.", towards: true) >= Requests, "the responses on the client's veth", () => $"{consumer.Records} records");
        // The connections' last FINs may still be on their way: every record the filter emitted is consumed first.
        Poll.Until(() => (ulong)consumer.Records == capture.ReadCounters().Packets, "every emitted record consumed", () => $"{consumer.Records} of {capture.ReadCounters().Packets}");
        cts.Cancel();
        Assert.True(runner.Join(TimeSpan.FromSeconds(5)), "Run did not return after cancellation");

        // Host-side veths are peer-side: the request travels towards the server pod on the server's veth, away from
        // the client pod on the client's veth; the response the other way round.
        Assert.Equal(Requests, consumer.Count(server.HostInterface, "GET ", towards: true));
        Assert.Equal(Requests, consumer.Count(server.HostInterface, "HTTP/1.", towards: false));
        Assert.Equal(Requests, consumer.Count(client.HostInterface, "GET ", towards: false));
        Assert.Equal(Requests, consumer.Count(client.HostInterface, "HTTP/1.", towards: true));
        Assert.Equal(0, consumer.Count(server.HostInterface, "GET ", towards: false));
        Assert.True(consumer.Batches > 0);

        var unixNs = (long)consumer.FirstTimestampNs + capture.MonotonicToUnixOffsetNs;
        var age = DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeMilliseconds(unixNs / 1_000_000);
        Assert.InRange(age, TimeSpan.Zero, TimeSpan.FromSeconds(30));

        var counters = capture.ReadCounters();
        Assert.Equal((ulong)consumer.Records, counters.Packets);
        Assert.Equal((0UL, 0UL, 0L, 0L, 2), (counters.RingBufferFull, counters.Truncated, counters.DroppedRecords, counters.AttachFailures, counters.AttachedInterfaces));
    }

    [Theory]
    [InlineData(PacketCaptureOptions.SocketAttach)]
    [InlineData(PacketCaptureOptions.TcAttach)]
    public void An_idle_capture_waits_on_the_ring_and_wakes_for_the_first_record_and_for_cancellation(string attach)
    {
        KernelTest.RequireRoot();
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        using var nginx = PodNginx.Start(pods, server, """location / { return 200 "hello"; }""");
        // Far beyond every deadline below: only the ring's wakeup and the cancellation can end the idle wait in time.
        var options = new PacketCaptureOptions
        {
            Attach = attach, Interfaces = [pods.Prefix + "h*"], PeerSideInterfaces = [pods.Prefix + "h*"], RingBufferBytes = 1 << 20, IdleWait = TimeSpan.FromHours(1),
        };
        using var capture = new PacketCapture(options, new ListLogger());
        capture.Start();
        var consumer = new CollectingConsumer();
        using var cts = new CancellationTokenSource();
        var runner = new Thread(() => capture.Run(consumer, cts.Token));
        runner.Start();

        for (var round = 1; round <= 2; round++)
        {
            // Two empty drains since the last record: the first slept a PollInterval, the second waits on the ring.
            Poll.Until(() => consumer.IdlesSinceRecord >= 2, "the capture thread waiting on the empty ring", () => $"{consumer.IdlesSinceRecord} empty drains");
            NetworkPods.Exec(client, $"curl -sf -o /dev/null http://{server.IPv4}/");
            Poll.Until(() => consumer.Count(client.HostInterface, "HTTP/1.", towards: true) == round, $"response {round} drained without waiting out the idle wait", () => $"{consumer.Records} records");
        }

        Poll.Until(() => consumer.IdlesSinceRecord >= 2 && (ulong)consumer.Records == capture.ReadCounters().Packets, "the capture waiting on the ring with every record consumed");
        cts.Cancel();
        Assert.True(runner.Join(TimeSpan.FromSeconds(5)), "Run did not return after cancellation during the idle wait");
    }

    [Theory]
    [InlineData(PacketCaptureOptions.SocketAttach)]
    [InlineData(PacketCaptureOptions.TcAttach)]
    public void Rescans_attach_to_new_pods_and_release_vanished_ones(string attach)
    {
        KernelTest.RequireRoot();
        using var first = NetworkPods.Create(1);
        var options = new PacketCaptureOptions { Attach = attach, Interfaces = [first.Prefix + "h*"], RingBufferBytes = 1 << 16 };
        using var capture = new PacketCapture(options, new ListLogger());
        capture.Start();
        Assert.Contains(first.Pods[0].HostInterface, capture.AttachedInterfaces);

        string later;
        using (var second = NetworkPods.Create(1))
        {
            later = second.Pods[0].HostInterface;
            options.Interfaces = [first.Prefix + "h*", second.Prefix + "h*"]; // patterns are read at every rescan
            capture.Rescan();
            Assert.Contains(later, capture.AttachedInterfaces);
        }

        // The kernel destroys a deleted network namespace, and the veth with it, asynchronously.
        Poll.Until(
            () =>
            {
                capture.Rescan();
                return !capture.AttachedInterfaces.Contains(later);
            },
            $"the release of {later} after its namespace was deleted",
            () => Directory.Exists(Path.Combine("/sys/class/net", later)) ? "the interface still exists" : "the interface is gone but still attached");
        Assert.Contains(first.Pods[0].HostInterface, capture.AttachedInterfaces);
        Assert.Equal((0L, 1), (capture.ReadCounters().AttachFailures, capture.ReadCounters().AttachedInterfaces));
    }

    [Fact]
    public void The_embedded_object_loads_and_its_rodata_takes_the_segment_size()
    {
        KernelTest.RequireRoot();
        using var obj = FilterHarness.OpenObject();
        obj.SetReadOnlyVariable("max_segment_bytes", (uint)PacketCaptureOptions.MaxSegmentBytesLimit);
        obj.Load();
        Assert.True(obj.Program(PacketCapture.ProgramName).Fd > 0);
        Assert.Equal((uint)KernelCounter.Count, obj.Map("counters").MaxEntries);
    }

    private sealed class CollectingConsumer : IPacketConsumer
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<(string Interface, string Start, bool Towards), int> _counts = [];
        private int _records;
        private int _batches;
        private int _idlesSinceRecord;

        public int Records => Volatile.Read(ref _records);

        public int IdlesSinceRecord => Volatile.Read(ref _idlesSinceRecord);

        public int Batches => Volatile.Read(ref _batches);

        public ulong FirstTimestampNs { get; private set; }

        public int Count(string iface, string start, bool towards)
        {
            lock (_lock)
            {
                return _counts.GetValueOrDefault((iface, start, towards));
            }
        }

        public void OnPacket(in PacketHeader header, ReadOnlySpan<byte> payload, bool towardsEndpoint, string interfaceName)
        {
            Interlocked.Increment(ref _records);
            Volatile.Write(ref _idlesSinceRecord, 0);
            if (FirstTimestampNs == 0)
            {
                FirstTimestampNs = header.TimestampNs;
            }

            foreach (var start in (string[])["GET ", "HTTP/1."])
            {
                if (payload.StartsWith(System.Text.Encoding.ASCII.GetBytes(start)))
                {
                    lock (_lock)
                    {
                        var key = (interfaceName, start, towardsEndpoint);
                        _counts[key] = _counts.GetValueOrDefault(key) + 1;
                    }
                }
            }
        }

        public void OnBatchEnd() => Interlocked.Increment(ref _batches);

        public void OnIdle() => Interlocked.Increment(ref _idlesSinceRecord);
    }
}
