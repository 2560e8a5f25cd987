using System.Runtime.InteropServices;

namespace Kubebpf.Profiler.Sampling;

/// <summary>C# mirror of <c>struct profile_key</c> (<c>bpf/profile/profile.h</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ProfileKey
{
    public uint Pid;
    public uint Reserved;
    public ulong CgroupId;
    public ulong KernelStack;
    public ulong UserStack;
}

/// <summary>C# mirror of <c>struct profile_count</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ProfileCount
{
    public ulong Samples;
    public fixed byte Comm[16];
}

/// <summary>Constants of <c>profile.h</c>.</summary>
internal static class ProfileAbi
{
    /// <summary>PROFILE_MAX_DEPTH: frames kept per stack.</summary>
    public const int MaxDepth = 127;

    /// <summary>sizeof(struct profile_stack): depth, reserved, then <see cref="MaxDepth"/> addresses.</summary>
    public const int StackSize = 8 + (8 * MaxDepth);

    /// <summary>Indices of the per-CPU "counters" map (enum profile_counter).</summary>
    public const uint Samples = 0;
    public const uint Idle = 1;
    public const uint CountsFull = 2;
    public const uint StacksFull = 3;

    /// <summary>PROFILE_COUNTER_MAX.</summary>
    public const int CounterCount = 4;
}
