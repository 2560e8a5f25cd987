using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace MyProbe.Tests;

public sealed class ForkCounterTests
{
    [Fact]
    public void A_flush_writes_one_point_per_command_name_and_starts_a_new_window()
    {
        var counter = new ForkCounter();
        counter.Add(new ForkEvent(1, 10, "bash"));
        counter.Add(new ForkEvent(2, 10, "bash"));
        counter.Add(new ForkEvent(3, 11, "make"));
        var output = new CollectingWriter();

        counter.Flush(1_700_000_000_000_000_000, output);
        counter.Flush(1_700_000_010_000_000_000, output);

        Assert.Equal(
            ["process_forks,comm=bash count=2i 1700000000000000000", "process_forks,comm=make count=1i 1700000000000000000"],
            output.Points.Select(LineProtocolText));
    }

    [Fact]
    public void Every_point_keeps_to_the_declared_contract()
    {
        var counter = new ForkCounter();
        counter.Add(new ForkEvent(1, 10, "bash"));
        counter.Add(new ForkEvent(2, 11, ""));
        var output = new CollectingWriter();

        counter.Flush(5, output);

        Assert.Equal(2, output.Points.Count);
        Assert.All(output.Points, point => Assert.Empty(ForkContract.ProcessForks.Violations(point)));
    }

    private static string LineProtocolText(MetricPoint point)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        LineProtocol.Write(point, buffer);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan).TrimEnd('\n');
    }

    private sealed class CollectingWriter : IPointWriter
    {
        public List<MetricPoint> Points { get; } = [];

        public void Write(MetricPoint point) => Points.Add(point);

        public void Write(IReadOnlyList<MetricPoint> points) => Points.AddRange(points);
    }
}
