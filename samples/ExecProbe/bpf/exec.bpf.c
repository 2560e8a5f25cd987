// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* One record per successful execve, from the sched:sched_process_exec tracepoint. The producer never wakes
 * user space (BPF_RB_NO_WAKEUP): the probe drains the ring every few milliseconds. */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "exec.h"

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, EXEC_COUNTER_MAX);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

/* The tracepoint record (/sys/kernel/tracing/events/sched/sched_process_exec/format). */
struct sched_process_exec_args {
    __u64 common;       /* common_type, common_flags, common_preempt_count, common_pid */
    __u32 filename_loc; /* __data_loc char[]: offset from the record start in the low 16 bits */
    __s32 pid;
    __s32 old_pid;
};

SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct sched_process_exec_args *ctx)
{
    struct exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
        __u32 key = EXEC_RINGBUF_FULL;
        __u64 *full = bpf_map_lookup_elem(&counters, &key);
        if (full)
            (*full)++;
        return 0;
    }

    __u64 uid_gid = bpf_get_current_uid_gid();
    e->timestamp_ns = bpf_ktime_get_ns();
    e->cgroup_id = bpf_get_current_cgroup_id();
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->uid = (__u32)uid_gid;
    e->gid = uid_gid >> 32;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    long copied = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + (ctx->filename_loc & 0xFFFF));
    e->filename_len = copied > 0 ? copied - 1 : 0;
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
