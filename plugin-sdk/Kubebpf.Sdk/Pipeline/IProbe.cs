namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// A source of events: typically owns an eBPF object, attaches it and drains what it produces.
/// </summary>
public interface IProbe
{
    /// <summary>
    /// Runs the probe until <paramref name="stoppingToken"/> is cancelled, then detaches everything it attached
    /// before returning. Called once, on a dedicated long-running thread of its own. An exception marks the plugin
    /// instance as failed; the host reports it and keeps the other plugins running. At shutdown the probes of an instance
    /// that also provides an <see cref="IPointSink"/> (a scrape endpoint, a sender) are stopped last, after the host's
    /// final flush has been written to that sink; the others are stopped first.
    /// </summary>
    Task RunAsync(CancellationToken stoppingToken);
}
