// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* One record per successful execve, from the sched:sched_process_exec tracepoint. The producer never wakes
 * user space (BPF_RB_NO_WAKEUP): the probe drains the ring every few milliseconds. */
#include "vmlinux.h" /* kernel types, generated at build time (BpfVmlinuxHeader in ExecProbe.csproj) */
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

SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct trace_event_raw_sched_process_exec *ctx)
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
    /* The tracepoint's record comes from vmlinux.h, not from its format file: its fields carry CO-RE relocations
     * (preserve_access_index), so libbpf fixes their offsets for the running kernel when it loads the object.
     * filename is a __data_loc string: the low 16 bits are its offset from the record's start. */
    long copied = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + (ctx->__data_loc_filename & 0xFFFF));
    e->filename_len = copied > 0 ? copied - 1 : 0;
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
