using Kubebpf.Profiler.Profiles;
using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Profiler.Tests;

/// <summary>Reads flame-graph rows back (from points or from InfluxDB) and answers questions about the tree they encode.</summary>
internal static class FlameRows
{
    /// <summary>The rows of <c>cpu_profile</c> points of one pod, in timestamp (depth-first) order.</summary>
    public static List<FlameRow> Of(IEnumerable<MetricPoint> points, string pod) =>
        [.. points.Where(p => p.Measurement == ProfilerContract.Profile && p.Tag("pod") == pod)
            .OrderBy(p => p.TimestampUnixNs)
            .Select(p => new FlameRow((int)p.Field("level")!.Value.AsLong, p.Field("label")!.Value.AsString, p.Field("value")!.Value.AsLong, p.Field("self")!.Value.AsLong))];

    /// <summary>Index of each row's parent (-1 for roots): the nearest earlier row one level up.</summary>
    public static int[] Parents(IReadOnlyList<FlameRow> rows)
    {
        var parents = new int[rows.Count];
        var path = new List<int>();
        for (var i = 0; i < rows.Count; i++)
        {
            var level = rows[i].Level;
            Assert.True(level <= path.Count, $"row {i} jumps from level {path.Count - 1} to {level}: not depth-first");
            path.RemoveRange(level, path.Count - level);
            parents[i] = level == 0 ? -1 : path[level - 1];
            path.Add(i);
        }

        return parents;
    }

    /// <summary>Fails unless every row's value equals its self plus its children's values.</summary>
    public static void AssertConsistent(IReadOnlyList<FlameRow> rows)
    {
        Assert.NotEmpty(rows);
        Assert.Equal(0, rows[0].Level);
        var parents = Parents(rows);
        var children = new long[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            if (parents[i] >= 0)
            {
                children[parents[i]] += rows[i].Value;
            }
        }

        for (var i = 0; i < rows.Count; i++)
        {
            Assert.True(rows[i].Value == rows[i].Self + children[i],
                $"row {i} '{rows[i].Label}' (level {rows[i].Level}): value {rows[i].Value} != self {rows[i].Self} + children {children[i]}");
        }
    }

    /// <summary>The summed value of rows labelled <paramref name="label"/> below the process row <paramref name="process"/>, and their parents' labels.</summary>
    public static (long Value, HashSet<string> Callers, int MinLevel) Function(IReadOnlyList<FlameRow> rows, string process, string label)
    {
        var parents = Parents(rows);
        long value = 0;
        var callers = new HashSet<string>(StringComparer.Ordinal);
        var minLevel = int.MaxValue;
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Label == label && ProcessOf(rows, parents, i) == process)
            {
                value += rows[i].Value;
                callers.Add(rows[parents[i]].Label);
                minLevel = Math.Min(minLevel, rows[i].Level);
            }
        }

        return (value, callers, minLevel);
    }

    /// <summary>The value of the level-1 (process) row named <paramref name="process"/>.</summary>
    public static long Process(IReadOnlyList<FlameRow> rows, string process) =>
        rows.Where(r => r.Level == 1 && r.Label == process).Sum(r => r.Value);

    private static string? ProcessOf(IReadOnlyList<FlameRow> rows, int[] parents, int index)
    {
        while (index >= 0 && rows[index].Level > 1)
        {
            index = parents[index];
        }

        return index >= 0 && rows[index].Level == 1 ? rows[index].Label : null;
    }
}
