using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// A destination for metric points. The host batches, buffers (bounded, oldest dropped first and counted)
/// and retries on the sink's behalf, so a sink only writes one batch. A sink that uses only some measurements also
/// implements <see cref="IMeasurementFilter"/>, and the host hands it only those.
/// </summary>
public interface IPointSink
{
    /// <summary>
    /// Writes one batch. The host never calls this concurrently for one sink instance and does not retain
    /// the batch list after the call completes. Throw <see cref="SinkWriteException"/> for a failure worth retrying
    /// (the host retries with backoff, honouring <see cref="SinkWriteException.RetryAfter"/>); any other exception
    /// drops the batch and is counted.
    /// </summary>
    ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken);
}

/// <summary>A sink failure that the host should retry.</summary>
public sealed class SinkWriteException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SinkWriteException(string message, TimeSpan? retryAfter = null, Exception? inner = null)
        : base(message, inner)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>The delay the destination asked for (HTTP <c>Retry-After</c>), if any.</summary>
    public TimeSpan? RetryAfter { get; }
}
