namespace Kubebpf.Profiler.Profiles;

/// <summary>
/// Sample counts per folded stack (frames outermost first, joined with <c>;</c> as in the collapsed-stacks format),
/// bounded: once <c>maxStacks</c> distinct stacks are held, samples of new stacks go to <see cref="OtherFrame"/> and
/// are counted in <see cref="FoldedSamples"/>. Not thread-safe.
/// </summary>
internal sealed class StackCounts(int maxStacks)
{
    /// <summary>The frame that stands for the stacks left out.</summary>
    public const string OtherFrame = "[other]";

    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

    /// <summary>Samples of stacks that did not fit, added to <see cref="OtherFrame"/>.</summary>
    public long FoldedSamples { get; private set; }

    /// <summary>All samples added.</summary>
    public long TotalSamples { get; private set; }

    /// <summary>Distinct stacks held.</summary>
    public int Count => _counts.Count;

    /// <summary>The stacks and their samples.</summary>
    public IReadOnlyDictionary<string, long> Stacks => _counts;

    /// <summary>Adds <paramref name="samples"/> to the stack <paramref name="folded"/>.</summary>
    public void Add(string folded, long samples)
    {
        TotalSamples += samples;
        if (_counts.TryGetValue(folded, out var count))
        {
            _counts[folded] = count + samples;
        }
        else if (_counts.Count < maxStacks)
        {
            _counts[folded] = samples;
        }
        else
        {
            FoldedSamples += samples;
            _counts[OtherFrame] = _counts.GetValueOrDefault(OtherFrame) + samples;
        }
    }

    /// <summary>
    /// The call tree of the <paramref name="top"/> stacks with the most samples (ties by name); the others are added as
    /// one <see cref="OtherFrame"/> stack, and their samples returned in <paramref name="folded"/>.
    /// </summary>
    public FlameNode Tree(string rootLabel, int top, out long folded)
    {
        var root = new FlameNode(rootLabel);
        folded = 0;
        var rank = 0;
        foreach (var (stack, samples) in _counts.OrderByDescending(s => s.Value).ThenBy(s => s.Key, StringComparer.Ordinal))
        {
            if (rank++ < top || stack == OtherFrame)
            {
                root.Add(Split(stack), samples);
            }
            else
            {
                folded += samples;
            }
        }

        if (folded > 0)
        {
            root.Add([OtherFrame], folded);
        }

        return root;
    }

    /// <summary>Frames of a folded stack.</summary>
    public static string[] Split(string folded) => folded.Split(';');

    /// <summary>Joins frames into a folded stack; <c>;</c> inside a frame (it separates frames) becomes <c>:</c>.</summary>
    public static string Fold(IEnumerable<string> frames) => string.Join(';', frames.Select(f => f.Replace(';', ':')));
}
