// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* CPU profiler: attached to one software cpu-clock perf event per CPU, it runs at every sample, takes the kernel and
 * user stacks (frame-pointer walks done by the kernel), and counts samples per (process, cgroup, kernel stack, user
 * stack) in the kernel. Counts and stacks are double-buffered: "control" names the active buffer; user space flips
 * it, then reads and deletes the other buffer's entries while samples keep landing in the new one. */
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include "profile.h"

_Static_assert(sizeof(struct profile_key) == 32, "the C# mirror (ProfileKey) is 32 bytes");
_Static_assert(sizeof(struct profile_count) == 24, "the C# mirror (ProfileCount) is 24 bytes");
_Static_assert(sizeof(struct profile_stack) == 8 + 8 * PROFILE_MAX_DEPTH, "the C# mirror reads depth then ips");

char LICENSE[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} control SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, PROFILE_COUNTER_MAX);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

/* Sizes are set by user space before load. */
#define COUNTS_MAP(name)                         \
    struct {                                     \
        __uint(type, BPF_MAP_TYPE_HASH);         \
        __uint(max_entries, 16384);              \
        __type(key, struct profile_key);         \
        __type(value, struct profile_count);     \
    } name SEC(".maps")

/* Not preallocated: memory follows the distinct stacks seen, not the bound. */
#define STACKS_MAP(name)                         \
    struct {                                     \
        __uint(type, BPF_MAP_TYPE_HASH);         \
        __uint(max_entries, 16384);              \
        __uint(map_flags, BPF_F_NO_PREALLOC);    \
        __type(key, __u64);                      \
        __type(value, struct profile_stack);     \
    } name SEC(".maps")

COUNTS_MAP(counts_0);
COUNTS_MAP(counts_1);
STACKS_MAP(stacks_0);
STACKS_MAP(stacks_1);

/* Per-CPU staging of the two stacks being taken (too large for the BPF stack). */
struct scratch {
    struct profile_stack kernel;
    struct profile_stack user;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline void count(__u32 index)
{
    __u64 *value = bpf_map_lookup_elem(&counters, &index);
    if (value)
        *value += 1;
}

/* Fills stack with the current kernel or user stack; returns the stack's hash, or 0 when there is none. */
static __always_inline __u64 take_stack(struct bpf_perf_event_data *ctx, struct profile_stack *stack, __u64 flags)
{
    long bytes = bpf_get_stack(ctx, stack->ips, sizeof(stack->ips), flags);
    if (bytes <= 0) {
        stack->depth = 0;
        return 0;
    }

    __u32 depth = (__u32)bytes / sizeof(__u64);
    stack->depth = depth;
    __u64 hash = 14695981039346656037ULL; /* FNV-1a over the frames, then the depth */
    for (__u32 i = 0; i < PROFILE_MAX_DEPTH; i++) {
        if (i >= depth)
            break;
        hash ^= stack->ips[i];
        hash *= 1099511628211ULL;
    }
    hash ^= depth;
    hash *= 1099511628211ULL;
    return hash ? hash : 1;
}

static __always_inline void store_stack(void *stacks, __u64 hash, struct profile_stack *stack)
{
    if (!hash)
        return;
    long rc = bpf_map_update_elem(stacks, &hash, stack, BPF_NOEXIST);
    if (rc && rc != -EEXIST)
        count(PROFILE_STACKS_FULL);
}

static __always_inline void record(void *counts, void *stacks, struct profile_key *key, struct scratch *s)
{
    store_stack(stacks, key->kernel_stack, &s->kernel);
    store_stack(stacks, key->user_stack, &s->user);

    struct profile_count *value = bpf_map_lookup_elem(counts, key);
    if (value) {
        __sync_fetch_and_add(&value->samples, 1);
        return;
    }

    struct profile_count first = { .samples = 1 };
    bpf_get_current_comm(first.comm, sizeof(first.comm));
    long rc = bpf_map_update_elem(counts, key, &first, BPF_NOEXIST);
    if (rc == -EEXIST) {
        /* another CPU created it in between */
        value = bpf_map_lookup_elem(counts, key);
        if (value)
            __sync_fetch_and_add(&value->samples, 1);
    } else if (rc) {
        count(PROFILE_COUNTS_FULL);
    }
}

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
    count(PROFILE_SAMPLES);
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid == 0) {
        count(PROFILE_IDLE);
        return 0;
    }

    __u32 zero = 0;
    struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
    if (!s)
        return 0;

    struct profile_key key = {
        .pid = pid,
        .cgroup_id = bpf_get_current_cgroup_id(),
    };
    key.kernel_stack = take_stack(ctx, &s->kernel, 0);
    key.user_stack = take_stack(ctx, &s->user, BPF_F_USER_STACK);

    __u32 *active = bpf_map_lookup_elem(&control, &zero);
    if (active && *active)
        record(&counts_1, &stacks_1, &key, s);
    else
        record(&counts_0, &stacks_0, &key, s);
    return 0;
}
