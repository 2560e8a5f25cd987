using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Red.Resources;

/// <summary>
/// The resource tables of one workload (namespace, kind, name), one per protocol it speaks, shared by its pods so that
/// the cap applies to the workload. A workload speaks few protocols: a linear scan by reference beats a hash lookup.
/// Not thread-safe: the aggregator synchronises.
/// </summary>
internal sealed class WorkloadResources(int capacityPerProtocol)
{
    private Entry[] _tables = [];

    /// <summary>The flush window in which the workload was last used; idle workloads are dropped at flush.</summary>
    public long LastUsedWindow { get; set; }

    /// <summary>The table of <paramref name="protocol"/>, created on first use and marked used in <paramref name="window"/>.</summary>
    public ResourceTable For(ProtocolDescriptor protocol, long window)
    {
        foreach (var entry in _tables)
        {
            if (ReferenceEquals(entry.Table.Protocol, protocol))
            {
                entry.LastUsedWindow = window;
                return entry.Table;
            }
        }

        var created = new Entry(new ResourceTable(protocol, capacityPerProtocol)) { LastUsedWindow = window };
        _tables = [.. _tables, created];
        return created.Table;
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

    /// <summary>A protocol's table and the flush window in which it was last used.</summary>
    private sealed class Entry(ResourceTable table)
    {
        public ResourceTable Table { get; } = table;

        public long LastUsedWindow { get; set; }
    }
}
