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

#endif
