namespace MyProbe;

/// <summary>One fork, decoded from the ring buffer.</summary>
/// <param name="MonotonicNs">When it happened, in CLOCK_MONOTONIC nanoseconds.</param>
/// <param name="ParentPid">The process that forked.</param>
/// <param name="ParentComm">Its command name (at most 15 bytes).</param>
public readonly record struct ForkEvent(ulong MonotonicNs, uint ParentPid, string ParentComm);
