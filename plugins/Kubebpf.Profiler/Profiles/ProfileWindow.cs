using System.Globalization;
using Kubebpf.Profiler.Attribution;
using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Profiler.Profiles;

/// <summary>
/// The samples of one window per pod (and of the whole run, for the files), as folded stacks whose first frame is the
/// process' command; <see cref="TakePoints"/> turns the window into flame-graph rows and top functions and starts the
/// next one. Not thread-safe: the profiler's drain thread owns it.
/// </summary>
/// <param name="maxStacksPerPod">Distinct stacks held per pod and window (see <see cref="StackCounts"/>).</param>
/// <param name="topStacks">Stacks written per pod and window; the rest as one <c>[other]</c> frame.</param>
/// <param name="topFunctions">Functions written per pod and window.</param>
/// <param name="node">The node tag.</param>
/// <param name="keepRun">Keep the whole run's stacks too (only the SVG and collapsed files need them).</param>
internal sealed class ProfileWindow(int maxStacksPerPod, int topStacks, int topFunctions, string node, bool keepRun = true)
{
    /// <summary>The label of every flame graph's root.</summary>
    public const string RootLabel = "total";

    private readonly Dictionary<ProfileOwner, StackCounts> _window = [];
    private readonly StackCounts _run = new(maxStacksPerPod);

    /// <summary>Samples that went to <c>[other]</c> because a pod reached <c>MaxStacksPerPod</c> or <c>TopStacks</c> (cumulative).</summary>
    public long FoldedSamples { get; private set; }

    /// <summary>Pods with samples in the current window.</summary>
    public int Pods => _window.Count;

    /// <summary>Adds samples of <paramref name="owner"/> with stack <paramref name="frames"/> (process command first, then outermost to innermost).</summary>
    public void Add(ProfileOwner owner, IReadOnlyList<string> frames, long samples)
    {
        if (!_window.TryGetValue(owner, out var counts))
        {
            _window[owner] = counts = new StackCounts(maxStacksPerPod);
        }

        var folded = StackCounts.Fold(frames);
        var before = counts.FoldedSamples;
        counts.Add(folded, samples);
        FoldedSamples += counts.FoldedSamples - before;
        if (keepRun)
        {
            _run.Add(StackCounts.Fold([OwnerFrame(owner)]) + ";" + folded, samples);
        }
    }

    /// <summary>Everything since the start, one tree whose first level is the pod (for the SVG and collapsed files); empty unless kept.</summary>
    public StackCounts Run => _run;

    /// <summary>The window's points (rows then functions, pod by pod), and a new empty window.</summary>
    public List<MetricPoint> TakePoints(DateTimeOffset windowStart)
    {
        var points = new List<MetricPoint>();
        var startNs = (windowStart.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        var window = windowStart.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        foreach (var (owner, counts) in _window.OrderBy(o => o.Key.Namespace, StringComparer.Ordinal).ThenBy(o => o.Key.Pod, StringComparer.Ordinal))
        {
            var tree = counts.Tree(RootLabel, topStacks, out var folded);
            FoldedSamples += folded;
            var ownerTags = OwnerTags(owner);
            var rowTags = ownerTags.Append(new Tag("window", window)).ToArray();
            var rows = tree.Rows();
            for (var i = 0; i < rows.Count; i++)
            {
                var row = rows[i];
                points.Add(new MetricPoint(ProfilerContract.Profile, rowTags,
                [
                    new Field("label", FieldValue.String(row.Label)),
                    new Field("level", FieldValue.Integer(row.Level)),
                    new Field("value", FieldValue.Integer(row.Value)),
                    new Field("self", FieldValue.Integer(row.Self)),
                ], startNs + i));
            }

            foreach (var (function, self, total) in TopFunctions(counts, topFunctions))
            {
                points.Add(new MetricPoint(ProfilerContract.Functions, [.. ownerTags, new Tag("function", function)],
                    [new Field("self", FieldValue.Integer(self)), new Field("total", FieldValue.Integer(total))], startNs));
            }
        }

        _window.Clear();
        return points;
    }

    /// <summary>Functions by self samples (most first, then by name), with their inclusive samples; the process frame is not a function.</summary>
    internal static List<(string Function, long Self, long Total)> TopFunctions(StackCounts counts, int top)
    {
        var self = new Dictionary<string, long>(StringComparer.Ordinal);
        var total = new Dictionary<string, long>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (stack, samples) in counts.Stacks)
        {
            var frames = StackCounts.Split(stack);
            if (frames.Length < 2)
            {
                continue; // the process frame alone: no function
            }

            self[frames[^1]] = self.GetValueOrDefault(frames[^1]) + samples;
            seen.Clear();
            foreach (var frame in frames.AsSpan(1))
            {
                if (seen.Add(frame))
                {
                    total[frame] = total.GetValueOrDefault(frame) + samples;
                }
            }
        }

        return [.. self.OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal).Take(top).Select(f => (f.Key, f.Value, total[f.Key]))];
    }

    private Tag[] OwnerTags(ProfileOwner owner)
    {
        var tags = new List<Tag>(4) { new("node", node) };
        if (owner.Namespace.Length > 0)
        {
            tags.Add(new Tag("namespace", owner.Namespace));
        }

        if (owner.Workload.Length > 0)
        {
            tags.Add(new Tag("workload", owner.Workload));
        }

        tags.Add(new Tag("pod", owner.Pod));
        return [.. tags];
    }

    private static string OwnerFrame(ProfileOwner owner) => owner.Namespace.Length > 0 ? $"{owner.Namespace}/{owner.Pod}" : owner.Pod;
}
