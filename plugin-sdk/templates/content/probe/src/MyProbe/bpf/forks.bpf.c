// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Stub program: one record per fork, from the sched:sched_process_fork tracepoint, read with helpers only (the
 * tracepoint's own record layout differs between kernels). Replace it with your hook; keep BPF_RB_NO_WAKEUP. */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "forks.h"

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, FORK_COUNTER_MAX);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

SEC("tracepoint/sched/sched_process_fork")
int on_fork(void *ctx)
{
    struct fork_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
        /* Every loss is counted: a full ring drops the record, and user space must be able to say so. */
        __u32 key = FORK_RINGBUF_FULL;
        __u64 *full = bpf_map_lookup_elem(&counters, &key);
        if (full)
            (*full)++;
        return 0;
    }

    e->timestamp_ns = bpf_ktime_get_ns();
    e->parent_pid = bpf_get_current_pid_tgid() >> 32;
    e->reserved = 0;
    bpf_get_current_comm(e->parent_comm, sizeof(e->parent_comm));
    /* The user space never wakes per event: it drains the ring every PollInterval. */
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
