/* The record forks.bpf.c writes to its ring buffer; ForkDecoder.cs reads the same offsets. */
#ifndef FORKS_H
#define FORKS_H

#define FORK_COMM_LEN 16

struct fork_event {
    __u64 timestamp_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
    __u32 parent_pid;
    __u32 reserved;     /* explicit padding: no hidden holes in a struct shared with C# */
    char parent_comm[FORK_COMM_LEN];
};

/* Indexes of the per-CPU "counters" map: losses the kernel side counts (the probe reports them as self-metrics). */
enum fork_counter {
    FORK_RINGBUF_FULL = 0, /* records dropped because the ring buffer was full */
    FORK_COUNTER_MAX,
};

#endif
