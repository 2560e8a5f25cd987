namespace Kubebpf.Agent.Sinks;

/// <summary>
/// Which of a sink's queues a point waits in. Each queue has its own bounds, so an outage that fills one never evicts
/// the other, and the pump always writes the higher-priority queue first.
/// </summary>
public enum PointPriority
{
    /// <summary>Aggregates and self-metrics: what aggregators write when flushed (R.E.D., service map) and <c>kubebpf_agent</c>. Small and precious.</summary>
    Aggregates,

    /// <summary>Per-event records written outside a flush (the call log, profiles): bulky, and the first to go when a destination is down.</summary>
    Records,
}
