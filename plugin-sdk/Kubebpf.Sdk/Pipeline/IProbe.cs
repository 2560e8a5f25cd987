namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// A source of events: typically owns an eBPF object, attaches it and drains what it produces.
/// </summary>
public interface IProbe
{
    /// <summary>
    /// Runs the probe until <paramref name="stoppingToken"/> is cancelled, then detaches everything it attached
    /// before returning. Called once, on a dedicated long-running thread of its own. An exception marks the plugin
    /// instance as failed; the host reports it and keeps the other plugins running.
    /// </summary>
    Task RunAsync(CancellationToken stoppingToken);
}
