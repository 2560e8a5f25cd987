using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Profiler;

/// <summary>The measurements the profiler writes (mirrored in README.md).</summary>
internal static class ProfilerContract
{
    public const string Profile = "cpu_profile";
    public const string Functions = "cpu_profile_functions";

    private static readonly TagContract[] OwnerTags =
    [
        new("node", "the node the samples were taken on"),
        new("namespace", "the pod's namespace (absent for the node's own processes)"),
        new("workload", "the pod's owning workload (absent for the node's own processes)"),
        new("pod", "the pod, or 'host' for the node's own processes"),
    ];

    public static MeasurementContract ProfileRows { get; } = new(
        Profile,
        "one row of a pod's flame graph for one window, in the nested-set model Grafana's Flame Graph panel reads: rows of a window are timestamped window start + row index (ns), so time order is depth-first order",
        [.. OwnerTags, new TagContract("window", "the window's start (RFC 3339, UTC): selects one flame graph")],
        [
            new FieldContract("label", FieldKind.String, "", "the frame: 'total' at level 0, the process' command at level 1, then functions outermost first (kernel functions end in _[k])"),
            new FieldContract("level", FieldKind.Integer, "", "the depth: 0 for the root"),
            new FieldContract("value", FieldKind.Integer, "", "samples in this frame and its callees (one sample = 1/Frequency s of CPU)"),
            new FieldContract("self", FieldKind.Integer, "", "samples in this frame itself"),
        ]);

    public static MeasurementContract FunctionRows { get; } = new(
        Functions,
        "the functions with the most self samples of a pod in one window",
        [.. OwnerTags, new TagContract("function", "the function (bounded per pod and window by TopFunctions)")],
        [
            new FieldContract("self", FieldKind.Integer, "", "samples in the function itself"),
            new FieldContract("total", FieldKind.Integer, "", "samples in the function and its callees (a recursive function counted once per sample)"),
        ]);
}
