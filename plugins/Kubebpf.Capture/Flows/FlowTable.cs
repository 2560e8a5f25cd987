namespace Kubebpf.Capture.Flows;

/// <summary>
/// Flows by key, in least-recently-active order, so that idle and surplus flows are found at the old end.
/// Not thread-safe, except <see cref="Count"/>.
/// </summary>
internal sealed class FlowTable
{
    private readonly Dictionary<FlowKey, Flow> _flows = [];
    private Flow? _newest;
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The least recently active flow.</summary>
    public Flow? Oldest { get; private set; }

    public bool TryGet(in FlowKey key, out Flow flow)
    {
        // The newest is the flow of the latest packet, and packets often follow one of their own flow (a response in
        // several segments): then the hash lookup is skipped. The newest is always in the table.
        if (_newest is { } newest && newest.Key.Equals(key))
        {
            flow = newest;
            return true;
        }

        return _flows.TryGetValue(key, out flow!);
    }

    public void Add(Flow flow)
    {
        _flows.Add(flow.Key, flow);
        Link(flow);
        Volatile.Write(ref _count, _flows.Count);
    }

    public void Touch(Flow flow, long nowNs)
    {
        flow.LastSeenNs = nowNs;
        if (flow != _newest)
        {
            Unlink(flow);
            Link(flow);
        }
    }

    public void Remove(Flow flow)
    {
        if (!_flows.Remove(flow.Key))
        {
            return;
        }

        Unlink(flow);
        Volatile.Write(ref _count, _flows.Count);
    }

    private void Link(Flow flow)
    {
        flow.Older = _newest;
        flow.Newer = null;
        if (_newest is not null)
        {
            _newest.Newer = flow;
        }

        _newest = flow;
        Oldest ??= flow;
    }

    private void Unlink(Flow flow)
    {
        if (flow.Newer is null)
        {
            _newest = flow.Older;
        }
        else
        {
            flow.Newer.Older = flow.Older;
        }

        if (flow.Older is null)
        {
            Oldest = flow.Newer;
        }
        else
        {
            flow.Older.Newer = flow.Newer;
        }

        flow.Newer = null;
        flow.Older = null;
    }
}
