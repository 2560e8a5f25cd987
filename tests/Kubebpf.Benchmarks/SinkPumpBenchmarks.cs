using BenchmarkDotNet.Attributes;
using Kubebpf.Agent.Sinks;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Benchmarks;

/// <summary>
/// Cost per point of handing the call log to one sink, one point at a time as the host's router does: a sink without a
/// measurement filter buffers every point (<see cref="SinkKind.Unfiltered"/>); one whose filter accepts the call log pays
/// the remembered answer on top (<see cref="SinkKind.Accepted"/>); one whose filter declines it (the OTLP self-metrics,
/// the console without call log) pays only that (<see cref="SinkKind.Declined"/>). Each iteration starts with a new,
/// empty pump large enough that nothing overflows; the pump does not run, so no write is measured.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1, 1)]
public class SinkPumpBenchmarks
{
    private const int Points = 65_536;
    private const int Passes = 8; // iterations of some 100 ms, as BenchmarkDotNet advises

    private readonly RedBenchmarks.NullAgentMetrics _metrics = new();
    private MetricPoint[] _points = [];
    private SinkPump _pump = null!;

    public enum SinkKind
    {
        Unfiltered,
        Accepted,
        Declined,
    }

    [Params(SinkKind.Unfiltered, SinkKind.Accepted, SinkKind.Declined)]
    public SinkKind Sink { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _points = SampleExchanges.CallLogPoints(Points);
    }

    [IterationSetup]
    public void NewPump()
    {
        IPointSink sink = Sink switch
        {
            SinkKind.Unfiltered => new DiscardingSink(),
            SinkKind.Accepted => new OnlySink(_points[0].Measurement),
            _ => new OnlySink("kubebpf_agent"),
        };
        var options = new SinkPumpOptions { BufferLimit = Points * Passes, BatchSize = 5000, RecordsBufferBytes = 4L << 30 };
        _pump = new SinkPump("benchmark", sink, options, _metrics, NullLogger.Instance, TimeProvider.System);
    }

    [Benchmark(OperationsPerInvoke = Points * Passes)]
    public void Enqueue()
    {
        for (var pass = 0; pass < Passes; pass++)
        {
            foreach (var point in _points)
            {
                _pump.Enqueue(point);
            }
        }
    }

    private class DiscardingSink : IPointSink
    {
        public ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    private sealed class OnlySink(string measurement) : DiscardingSink, IMeasurementFilter
    {
        public bool Accepts(string candidate) => candidate == measurement;
    }
}
