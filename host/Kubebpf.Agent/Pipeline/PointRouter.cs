using Kubebpf.Agent.Sinks;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Agent.Pipeline;

/// <summary>
/// The host's <see cref="IPointWriter"/>: hands every point to each sink's pump (bounded, non-blocking; a pump keeps only the
/// measurements its sink accepts, see <see cref="IMeasurementFilter"/>). Points written
/// through it directly (the call log, profiles) are <see cref="PointPriority.Records"/>; the host hands aggregators
/// <see cref="Aggregates"/> when it flushes them, and writes self-metrics there too, so that they outlive an outage.
/// </summary>
internal sealed class PointRouter : IPointWriter
{
    private SinkPump[] _pumps = [];

    public PointRouter() => Aggregates = new PriorityWriter(this, PointPriority.Aggregates);

    /// <summary>The writer for aggregates and self-metrics.</summary>
    public IPointWriter Aggregates { get; }

    /// <summary>Set once all sinks are built, before any probe starts.</summary>
    public void SetPumps(IEnumerable<SinkPump> pumps) => Volatile.Write(ref _pumps, [.. pumps]);

    public void Write(MetricPoint point) => Write(point, PointPriority.Records);

    public void Write(IReadOnlyList<MetricPoint> points) => Write(points, PointPriority.Records);

    private void Write(MetricPoint point, PointPriority priority)
    {
        foreach (var pump in Volatile.Read(ref _pumps))
        {
            pump.Enqueue(point, priority);
        }
    }

    private void Write(IReadOnlyList<MetricPoint> points, PointPriority priority)
    {
        foreach (var pump in Volatile.Read(ref _pumps))
        {
            pump.Enqueue(points, priority);
        }
    }

    private sealed class PriorityWriter(PointRouter router, PointPriority priority) : IPointWriter
    {
        public void Write(MetricPoint point) => router.Write(point, priority);

        public void Write(IReadOnlyList<MetricPoint> points) => router.Write(points, priority);
    }
}
