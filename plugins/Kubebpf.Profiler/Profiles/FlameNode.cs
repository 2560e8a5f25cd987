namespace Kubebpf.Profiler.Profiles;

/// <summary>One row of a flame graph in the nested-set model Grafana's Flame Graph panel reads, in depth-first order.</summary>
/// <param name="Level">Depth: 0 for the root.</param>
/// <param name="Label">The frame (function) name.</param>
/// <param name="Value">Samples in this frame and everything it called.</param>
/// <param name="Self">Samples in this frame itself.</param>
internal readonly record struct FlameRow(int Level, string Label, long Value, long Self);

/// <summary>
/// A call tree built from stacks (outermost frame first): each node's value is its own samples plus its children's.
/// Children are kept in label order, so that the same samples always give the same rows.
/// </summary>
internal sealed class FlameNode(string label)
{
    private SortedDictionary<string, FlameNode>? _children;

    public string Label { get; } = label;

    /// <summary>Samples here and below.</summary>
    public long Value { get; private set; }

    /// <summary>Samples in this frame itself.</summary>
    public long Self { get; private set; }

    /// <summary>The callees, by label.</summary>
    public IEnumerable<FlameNode> Children => _children?.Values ?? Enumerable.Empty<FlameNode>();

    /// <summary>Adds <paramref name="samples"/> along <paramref name="frames"/> (outermost first) below this node.</summary>
    public void Add(IReadOnlyList<string> frames, long samples)
    {
        var node = this;
        node.Value += samples;
        foreach (var frame in frames)
        {
            node._children ??= new SortedDictionary<string, FlameNode>(StringComparer.Ordinal);
            if (!node._children.TryGetValue(frame, out var child))
            {
                node._children[frame] = child = new FlameNode(frame);
            }

            node = child;
            node.Value += samples;
        }

        node.Self += samples;
    }

    /// <summary>The rows, depth first (a node, then each child's subtree in label order).</summary>
    public List<FlameRow> Rows()
    {
        var rows = new List<FlameRow>();
        var pending = new Stack<(FlameNode Node, int Level)>();
        pending.Push((this, 0));
        while (pending.Count > 0)
        {
            var (node, level) = pending.Pop();
            rows.Add(new FlameRow(level, node.Label, node.Value, node.Self));
            foreach (var child in node.Children.Reverse())
            {
                pending.Push((child, level + 1));
            }
        }

        return rows;
    }
}
