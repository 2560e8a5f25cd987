namespace Kubebpf.Profiler.Sampling;

/// <summary>
/// What the kernel counted for one (process, cgroup, kernel stack, user stack) since the previous read.
/// Frames are innermost first; an empty array means the sample had no such stack.
/// </summary>
/// <param name="Pid">The process (thread-group id).</param>
/// <param name="CgroupId">The cgroup v2 id of the sampled thread.</param>
/// <param name="Comm">The command of the thread that took the first sample.</param>
/// <param name="KernelFrames">Kernel return addresses.</param>
/// <param name="UserFrames">User return addresses.</param>
/// <param name="Samples">How many samples had exactly these.</param>
/// <param name="StackLost">A stack the key named was not stored (stacks map full): its frames are missing.</param>
internal sealed record StackSample(
    int Pid, ulong CgroupId, string Comm, ulong[] KernelFrames, ulong[] UserFrames, long Samples, bool StackLost = false);
