namespace ExecProbe;

/// <summary>One successful execve, decoded from the ring buffer.</summary>
/// <param name="MonotonicNs">When it happened, in CLOCK_MONOTONIC nanoseconds (<c>bpf_ktime_get_ns</c>).</param>
/// <param name="CgroupId">The cgroup v2 id of the process (identifies its container).</param>
/// <param name="Pid">The process id.</param>
/// <param name="Uid">The real user id.</param>
/// <param name="Gid">The real group id.</param>
/// <param name="Comm">The new command name: the executable's file name, cut at 15 bytes by the kernel.</param>
/// <param name="Filename">The path given to execve (cut at 255 bytes).</param>
public readonly record struct ExecEvent(ulong MonotonicNs, ulong CgroupId, uint Pid, uint Uid, uint Gid, string Comm, string Filename);
