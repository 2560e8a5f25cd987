using Kubebpf.Sdk.Metrics;

namespace ExecProbe;

/// <summary>The one measurement this plugin writes; the README documents the same.</summary>
public static class ExecContract
{
    public static MeasurementContract ProcessExec { get; } = new(
        "process_exec",
        "one successful execve on the node",
        [new TagContract("comm", "the executable's file name as the kernel keeps it (at most 15 bytes)")],
        [
            new FieldContract("pid", FieldKind.Integer, "", "process id"),
            new FieldContract("uid", FieldKind.Integer, "", "real user id"),
            new FieldContract("gid", FieldKind.Integer, "", "real group id"),
            new FieldContract("filename", FieldKind.String, "", "the path given to execve (at most 255 bytes)"),
            new FieldContract("cgroup_id", FieldKind.UInteger, "", "cgroup v2 id of the process: names its container"),
        ]);

    /// <summary>The point for one exec, stamped in Unix time.</summary>
    public static MetricPoint ToPoint(in ExecEvent exec, long monotonicToUnixNs) => new(
        ProcessExec.Name,
        exec.Comm.Length == 0 ? [] : [new Tag("comm", exec.Comm)],
        [
            new Field("pid", FieldValue.Integer(exec.Pid)),
            new Field("uid", FieldValue.Integer(exec.Uid)),
            new Field("gid", FieldValue.Integer(exec.Gid)),
            new Field("filename", FieldValue.String(exec.Filename)),
            new Field("cgroup_id", FieldValue.UInteger(exec.CgroupId)),
        ],
        (long)exec.MonotonicNs + monotonicToUnixNs);
}
