/* The record the exec probe writes to its ring buffer; mirrored by ExecRecord.cs (same sizes and offsets). */
#ifndef EXEC_H
#define EXEC_H

#define EXEC_COMM_LEN 16
#define EXEC_FILENAME_LEN 256

struct exec_event {
    __u64 timestamp_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
    __u64 cgroup_id;
    __u32 pid;          /* the process (thread group) that called execve */
    __u32 uid;
    __u32 gid;
    __u32 filename_len; /* bytes of filename before its NUL; 0 when it could not be read */
    char comm[EXEC_COMM_LEN];
    char filename[EXEC_FILENAME_LEN];
};

/* Indexes of the per-CPU "counters" map. */
enum exec_counter {
    EXEC_RINGBUF_FULL = 0,
    EXEC_COUNTER_MAX,
};

#endif
