using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Red.Resources;

/// <summary>
/// The resource tables of one workload (namespace, kind, name), one per protocol it speaks, shared by its pods so that
/// the cap applies to the workload. A workload speaks few protocols: a linear scan by reference beats a hash lookup.
/// Not thread-safe: the aggregator synchronises.
/// </summary>
internal sealed class WorkloadResources(int capacityPerProtocol)
{
    private ResourceTable[] _tables = [];

    /// <summary>The flush window in which the workload was last used; idle workloads are dropped at flush.</summary>
    public long LastUsedWindow { get; set; }

    /// <summary>The table of <paramref name="protocol"/>, created on first use and marked used in <paramref name="window"/>.</summary>
    public ResourceTable For(ProtocolDescriptor protocol, long window)
    {
        foreach (var table in _tables)
        {
            if (ReferenceEquals(table.Protocol, protocol))
            {
                table.LastUsedWindow = window;
                return table;
            }
        }

        var created = new ResourceTable(protocol, capacityPerProtocol) { LastUsedWindow = window };
        _tables = [.. _tables, created];
        return created;
    }

    /// <summary>
    /// Drops the tables unused since before <paramref name="window"/>: their series had no requests in the closing
    /// window, so they are gone already, and the protocol starts with an empty table when it returns.
    /// </summary>
    public void DropIdle(long window)
    {
        if (Array.Exists(_tables, t => t.LastUsedWindow < window))
        {
            _tables = Array.FindAll(_tables, t => t.LastUsedWindow >= window);
        }
    }
}
