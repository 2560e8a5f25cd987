using Kubebpf.Capture.Capture;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Benchmarks;

/// <summary>
/// The overhead benchmark's "eBPF attached, user space idle" states: the agent's own capture program on the given
/// interfaces (socket filters, or tc filters with <c>--attach tc</c>), and a drain that consumes every record without looking at it. Draining keeps the ring from filling,
/// so the kernel side does exactly the work it does under the full agent (a full ring would make the filter cheaper);
/// the filter copies whole the segments the full agent's would (HTTP's message starts).
/// Runs until stdin closes or SIGINT/SIGTERM; prints one line once attached and the capture counters at exit.
/// </summary>
internal static class CaptureOnly
{
    public const string Command = "capture-only";

    public static int Run(string[] arguments)
    {
        var (attach, interfaces) = arguments is ["--attach", var mode, .. var rest] ? (mode, rest) : (PacketCaptureOptions.SocketAttach, arguments);
        var options = new PacketCaptureOptions { Attach = attach, Interfaces = interfaces };
        var errors = options.Validate().ToList();
        if (interfaces.Length == 0 || errors.Count > 0)
        {
            Console.Error.WriteLine($"usage: {Command} [--attach socket|tc] INTERFACE_PATTERN... {string.Join(" ", errors)}");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        using var capture = new PacketCapture(options, NullLogger.Instance, WholeSegmentRule.For([Http.HttpProtocol.Starts]));
        capture.Start();
        Console.WriteLine($"capture-only attached to {string.Join(", ", capture.AttachedInterfaces.Order(StringComparer.Ordinal))}");
        Console.Out.Flush();
        _ = Task.Run(() =>
        {
            Console.In.ReadToEnd();
            stop.Cancel();
        });
        capture.Run(new Discard(), stop.Token);
        var counters = capture.ReadCounters();
        Console.WriteLine($"packets={counters.Packets} ringbuf_full={counters.RingBufferFull} dropped_records={counters.DroppedRecords}");
        return 0;
    }

    private sealed class Discard : IPacketConsumer
    {
        public void OnPacket(in PacketHeader header, ReadOnlySpan<byte> payload, bool towardsEndpoint, string interfaceName)
        {
        }

        public void OnBatchEnd()
        {
        }
    }
}
