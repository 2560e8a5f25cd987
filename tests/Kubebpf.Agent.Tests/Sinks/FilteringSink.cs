using System.Collections.Concurrent;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Agent.Tests.Sinks;

/// <summary>A sink that accepts the measurements it is given (and fails on <c>throws</c>), recording what it is asked and written.</summary>
internal sealed class FilteringSink(params string[] accepted) : IPointSink, IMeasurementFilter
{
    public const string Failing = "throws";

    public ConcurrentQueue<string> Written { get; } = new();

    public ConcurrentDictionary<string, int> Questions { get; } = new(StringComparer.Ordinal);

    public bool Accepts(string measurement)
    {
        Questions.AddOrUpdate(measurement, 1, (_, n) => n + 1);
        return measurement == Failing ? throw new InvalidOperationException("filter bug") : accepted.Contains(measurement);
    }

    public ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken)
    {
        foreach (var point in batch)
        {
            Written.Enqueue(point.Measurement);
        }

        return ValueTask.CompletedTask;
    }
}
