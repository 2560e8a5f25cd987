using Kubebpf.Agent.Sinks;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Agent.Pipeline;

/// <summary>The host's <see cref="IPointWriter"/>: hands every point to each sink's pump (bounded, non-blocking).</summary>
internal sealed class PointRouter : IPointWriter
{
    private SinkPump[] _pumps = [];

    /// <summary>Set once all sinks are built, before any probe starts.</summary>
    public void SetPumps(IEnumerable<SinkPump> pumps) => Volatile.Write(ref _pumps, [.. pumps]);

    public void Write(MetricPoint point)
    {
        foreach (var pump in Volatile.Read(ref _pumps))
        {
            pump.Enqueue(point);
        }
    }

    public void Write(IReadOnlyList<MetricPoint> points)
    {
        foreach (var pump in Volatile.Read(ref _pumps))
        {
            pump.Enqueue(points);
        }
    }
}
