using System.Text;
using Kubebpf.Http.Capture;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Testing;

namespace Kubebpf.Sdk.Tests;

/// <summary>The capture component end to end: real pods, nginx, curl, interface rescans.</summary>
[Trait("Category", "Kernel")]
public sealed class SegmentCaptureKernelTests
{
    private const int Requests = 10;

    [Fact]
    public void Segments_arrive_with_direction_and_interface_name_on_both_pods_veths()
    {
        KernelTest.RequireRoot();
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        using var nginx = PodNginx.Start(pods, server, """location / { return 200 "hello"; }""");
        var options = new SegmentCaptureOptions { Interfaces = [pods.Prefix + "h*"], PeerSideInterfaces = [pods.Prefix + "h*"], CaptureBytes = 512, RingBufferBytes = 1 << 20 };
        using var capture = new SegmentCapture(options, new ListLogger());
        capture.Start();
        Assert.Equal([server.HostInterface, client.HostInterface], capture.AttachedInterfaces.Order());

        var consumer = new CollectingConsumer();
        using var cts = new CancellationTokenSource();
        var runner = new Thread(() => capture.Run(consumer, cts.Token));
        runner.Start();
        NetworkPods.Exec(client, $"for i in $(seq {Requests}); do curl -sf -o /dev/null http://{server.IPv4}/ || exit 1; done");
        Thread.Sleep(100);
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
        Assert.Equal((ulong)consumer.Segments, counters.Segments);
        Assert.Equal((0UL, 0L, 0L, 2), (counters.RingBufferFull, counters.DroppedRecords, counters.AttachFailures, counters.AttachedInterfaces));
    }

    [Fact]
    public void Rescans_attach_to_new_pods_and_release_vanished_ones()
    {
        KernelTest.RequireRoot();
        using var first = NetworkPods.Create(1);
        var options = new SegmentCaptureOptions { Interfaces = [first.Prefix + "h*"], RingBufferBytes = 1 << 16 };
        using var capture = new SegmentCapture(options, new ListLogger());
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

        capture.Rescan();
        Assert.DoesNotContain(later, capture.AttachedInterfaces);
        Assert.Contains(first.Pods[0].HostInterface, capture.AttachedInterfaces);
        Assert.Equal(0, capture.ReadCounters().AttachFailures);
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SegmentCapture(new() { CaptureBytes = SegmentCapture.MaxCaptureBytes + 1 }, new ListLogger()));
        Assert.Throws<ArgumentException>(() => new SegmentCapture(new() { RingBufferBytes = 3 << 20 }, new ListLogger()));
    }

    [Fact]
    public void The_embedded_object_loads_and_its_rodata_takes_the_capture_size()
    {
        KernelTest.RequireRoot();
        using var obj = BpfObject.OpenMemory(SegmentCapture.LoadObject(), "http_capture", new ListLogger());
        obj.SetReadOnlyVariable("capture_bytes", (uint)SegmentCapture.MaxCaptureBytes);
        obj.Load();
        Assert.True(obj.Program("http_capture").Fd > 0);
        Assert.Equal(4u, obj.Map("counters").MaxEntries); // COUNTER_MAX
    }

    private sealed class CollectingConsumer : ISegmentConsumer
    {
        private readonly Dictionary<(string Interface, string Start, bool Towards), int> _counts = [];

        public int Segments { get; private set; }

        public int Batches { get; private set; }

        public ulong FirstTimestampNs { get; private set; }

        public int Count(string iface, string start, bool towards) => _counts.GetValueOrDefault((iface, start, towards));

        public void OnSegment(in SegmentHeader header, ReadOnlySpan<byte> payload, bool towardsEndpoint, string interfaceName)
        {
            Segments++;
            if (FirstTimestampNs == 0)
            {
                FirstTimestampNs = header.TimestampNs;
            }

            foreach (var start in new[] { "GET ", "HTTP/1." })
            {
                if (payload.StartsWith(Encoding.ASCII.GetBytes(start)))
                {
                    var key = (interfaceName, start, towardsEndpoint);
                    _counts[key] = _counts.GetValueOrDefault(key) + 1;
                }
            }
        }

        public void OnBatchEnd() => Batches++;
    }
}
