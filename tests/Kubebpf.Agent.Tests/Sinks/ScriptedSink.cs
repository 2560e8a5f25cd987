using System.Collections.Concurrent;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Agent.Tests.Sinks;

/// <summary>A sink whose answer to each call is scripted; it records a copy of every batch it was given (the pump reuses its list).</summary>
internal sealed class ScriptedSink(Func<int, CancellationToken, ValueTask>? answer = null) : IPointSink
{
    private int _calls;

    public ConcurrentQueue<long[]> Batches { get; } = new();

    public int Calls => Volatile.Read(ref _calls);

    public Func<int, CancellationToken, ValueTask>? Answer { get; set; } = answer;

    public IEnumerable<long> Written => Batches.SelectMany(b => b);

    public ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken)
    {
        var call = Interlocked.Increment(ref _calls);
        Batches.Enqueue([.. batch.Select(p => p.TimestampUnixNs)]);
        return Answer?.Invoke(call, cancellationToken) ?? ValueTask.CompletedTask;
    }
}
