/* Shared between profile.bpf.c and its C# mirror (plugins/Kubebpf.Profiler/Sampling/ProfileStructs.cs).
 * Only the map key/value structs and constants live here; a test checks sizeof/offsetof on both sides. */
#ifndef KUBEBPF_PROFILE_H
#define KUBEBPF_PROFILE_H

/* Frames kept per stack: the kernel's default kernel.perf_event_max_stack. A user stack this deep is reported as
 * truncated by user space. */
#define PROFILE_MAX_DEPTH 127

/* Indices of the per-CPU "counters" array map. */
enum profile_counter {
    PROFILE_SAMPLES = 0,       /* every sample the perf events delivered, idle included */
    PROFILE_IDLE = 1,          /* samples of the idle task (pid 0): skipped, not a loss */
    PROFILE_COUNTS_FULL = 2,   /* samples lost: the counts map of the active buffer was full */
    PROFILE_STACKS_FULL = 3,   /* stacks not stored: the stacks map was full (the sample is kept, its frames are not) */
    PROFILE_COUNTER_MAX = 4,
};

/* The counts maps' key: one (process, cgroup, kernel stack, user stack). A stack is named by a 64-bit hash of its
 * frames; 0 means "no such stack" (a sample in user mode has no kernel stack, a kernel thread no user stack). */
struct profile_key {
    __u32 pid;                 /* thread-group id: the process */
    __u32 reserved;            /* zero */
    __u64 cgroup_id;           /* bpf_get_current_cgroup_id(): the cgroup v2 directory's inode */
    __u64 kernel_stack;
    __u64 user_stack;
};

/* The counts maps' value. */
struct profile_count {
    __u64 samples;
    char comm[16];             /* the command of the thread that took the first sample of this key */
};

/* The stacks maps' value: frames innermost first, the rest of ips zeroed. */
struct profile_stack {
    __u32 depth;
    __u32 reserved;
    __u64 ips[PROFILE_MAX_DEPTH];
};

#endif
