using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// Hands points to every configured sink. Provided by the host.
/// Thread-safe and non-blocking: points go into each sink's bounded buffer; what does not fit displaces the oldest
/// buffered points, and that loss is counted in the agent's self-metrics.
/// </summary>
public interface IPointWriter
{
    /// <summary>Queues one point for every sink.</summary>
    void Write(MetricPoint point);

    /// <summary>Queues a batch of points for every sink; cheaper than one call per point.</summary>
    void Write(IReadOnlyList<MetricPoint> points);
}
