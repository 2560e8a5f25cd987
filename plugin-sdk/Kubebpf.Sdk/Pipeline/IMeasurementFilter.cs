namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// Optional capability of an <see cref="IPointSink"/> that uses only some measurements: the host asks it once per
/// measurement name and hands the sink only the points it accepts. The others never enter the sink's buffers, so they
/// cost it no buffer bytes, no batching and no write, and they are not losses: they appear in none of the sink's
/// <c>points_*</c> counters. A sink without this interface receives every point.
/// </summary>
public interface IMeasurementFilter
{
    /// <summary>
    /// Whether the sink wants the points of <paramref name="measurement"/>. Called from any thread, possibly concurrently,
    /// from the first point on (all plugins are built and the <see cref="Protocols.IProtocolCatalog"/> is complete by then).
    /// The host remembers the answer for the sink's lifetime, so it must not change; it must not throw (a failing filter
    /// is logged and the measurement accepted).
    /// </summary>
    bool Accepts(string measurement);
}
