using System.Collections.Concurrent;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Testing;

/// <summary>An <see cref="IPointWriter"/> and <see cref="IPointSink"/> that keeps every point, for assertions.</summary>
public sealed class CollectingPointWriter : IPointWriter, IPointSink
{
    private readonly ConcurrentQueue<MetricPoint> _points = new();

    public IReadOnlyList<MetricPoint> Points => [.. _points];

    public IReadOnlyList<MetricPoint> Measurement(string name) => [.. _points.Where(p => p.Measurement == name)];

    public void Write(MetricPoint point) => _points.Enqueue(point);

    public void Write(IReadOnlyList<MetricPoint> points)
    {
        foreach (var point in points)
        {
            _points.Enqueue(point);
        }
    }

    public ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken)
    {
        Write(batch);
        return ValueTask.CompletedTask;
    }

    public void Clear() => _points.Clear();
}
