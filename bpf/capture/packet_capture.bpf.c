// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Socket filter on an AF_PACKET raw socket: copies each TCP segment that carries payload (or a FIN/RST)
 * into the "segments" ring buffer, header first (struct segment_event), then up to capture_bytes payload bytes.
 * It returns 0, so the raw socket itself never queues a packet: the ring buffer is the only output. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "packet_capture.h"

#define VLAN_HLEN 4
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define LOOPBACK_IFINDEX 1

_Static_assert((HTTP_CAPTURE_MAX_BYTES & (HTTP_CAPTURE_MAX_BYTES - 1)) == 0, "the length mask needs a power of two");

/* Payload bytes copied per segment; set by user space before load, clamped to HTTP_CAPTURE_MAX_BYTES. */
const volatile __u32 capture_bytes = 1024;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 8 << 20); /* user space resizes it before load */
} segments SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, COUNTER_MAX);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

/* Staging area: one record is assembled here, then copied with its exact length into the ring buffer
 * (reserving HTTP_CAPTURE_MAX_BYTES per record would waste most of the ring on small segments). */
struct staging {
    struct segment_event hdr;
    __u8 payload[HTTP_CAPTURE_MAX_BYTES];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct staging);
} scratch SEC(".maps");

static __always_inline void count(__u32 index)
{
    __u64 *value = bpf_map_lookup_elem(&counters, &index);
    if (value)
        *value += 1; /* per-CPU slot: no atomic needed */
}

static __always_inline int is_ipv6_extension(__u8 nexthdr)
{
    switch (nexthdr) {
    case IPPROTO_HOPOPTS:
    case IPPROTO_ROUTING:
    case IPPROTO_FRAGMENT:
    case IPPROTO_DSTOPTS:
    case IPPROTO_AH:
    case IPPROTO_MH:
        return 1;
    default:
        return 0;
    }
}

SEC("socket")
int http_capture(struct __sk_buff *skb)
{
    /* Loopback shows every packet twice (outgoing, then incoming): keep the incoming copy. */
    if (skb->ifindex == LOOPBACK_IFINDEX && skb->pkt_type == PACKET_OUTGOING)
        return 0;

    __u32 key = 0;
    struct staging *st = bpf_map_lookup_elem(&scratch, &key);
    if (!st)
        return 0;
    struct segment_event *ev = &st->hdr;
    __builtin_memset(ev, 0, sizeof(*ev));

    __u32 off = ETH_HLEN;
    __be16 proto;
    if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)) < 0)
        return 0;
    if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
        if (bpf_skb_load_bytes(skb, 16, &proto, sizeof(proto)) < 0)
            return 0;
        off += VLAN_HLEN;
    }

    __u32 ip_payload_end; /* offset of the end of the IP payload, from the IP header's length field */
    if (proto == bpf_htons(ETH_P_IP)) {
        struct iphdr ip;
        if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) < 0)
            return 0;
        if (ip.protocol != IPPROTO_TCP)
            return 0;
        if (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
            count(COUNTER_UNSUPPORTED_IP);
            return 0;
        }
        __u32 tot_len = bpf_ntohs(ip.tot_len);
        /* tot_len 0: a BIG TCP (GSO) packet larger than 64 KiB; the skb length is authoritative. */
        ip_payload_end = tot_len ? off + tot_len : skb->len;
        __builtin_memcpy(ev->saddr, &ip.saddr, 4);
        __builtin_memcpy(ev->daddr, &ip.daddr, 4);
        ev->family = 4;
        off += ip.ihl * 4;
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr ip6;
        if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) < 0)
            return 0;
        if (ip6.nexthdr != IPPROTO_TCP) {
            if (is_ipv6_extension(ip6.nexthdr))
                count(COUNTER_UNSUPPORTED_IP);
            return 0;
        }
        __u32 plen = bpf_ntohs(ip6.payload_len);
        off += sizeof(ip6);
        ip_payload_end = plen ? off + plen : skb->len;
        __builtin_memcpy(ev->saddr, &ip6.saddr, 16);
        __builtin_memcpy(ev->daddr, &ip6.daddr, 16);
        ev->family = 6;
    } else {
        return 0;
    }

    struct tcphdr tcp;
    if (bpf_skb_load_bytes(skb, off, &tcp, sizeof(tcp)) < 0)
        return 0;
    __u8 flags = ((__u8 *)&tcp)[13];
    off += tcp.doff * 4;

    /* Ethernet padding of short frames lies beyond the IP length; a truncated skb ends before it. */
    __u32 end = ip_payload_end < skb->len ? ip_payload_end : skb->len;
    __u32 payload_len = end > off ? end - off : 0;
    if (payload_len == 0 && !(flags & (SEGMENT_FIN | SEGMENT_RST)))
        return 0; /* pure ACK or SYN: nothing for the HTTP parser */

    __u32 cap = capture_bytes;
    if (cap > HTTP_CAPTURE_MAX_BYTES)
        cap = HTTP_CAPTURE_MAX_BYTES;
    __u32 len = payload_len < cap ? payload_len : cap;
    if (payload_len > len)
        count(COUNTER_TRUNCATED);

    ev->timestamp_ns = bpf_ktime_get_ns();
    ev->ifindex = skb->ifindex;
    ev->seq = bpf_ntohl(tcp.seq);
    ev->ack = bpf_ntohl(tcp.ack_seq);
    ev->payload_len = payload_len;
    ev->sport = bpf_ntohs(tcp.source);
    ev->dport = bpf_ntohs(tcp.dest);
    ev->tcp_flags = flags;
    ev->pkt_type = skb->pkt_type;

    if (len > 0) {
        /* Clang proves len <= HTTP_CAPTURE_MAX_BYTES and then passes an unbounded copy of it to the helper,
         * which the verifier rejects. Hide len from clang, then bound it with a mask the verifier can follow:
         * ((len - 1) & (MAX - 1)) + 1 lies in [1, MAX] and equals len here. */
        asm volatile("" : "+r"(len));
        len = ((len - 1) & (HTTP_CAPTURE_MAX_BYTES - 1)) + 1;
        if (bpf_skb_load_bytes(skb, off, st->payload, len) < 0)
            len = 0;
    }
    ev->captured_len = len;

    if (bpf_ringbuf_output(&segments, st, sizeof(*ev) + len, BPF_RB_NO_WAKEUP) < 0)
        count(COUNTER_RINGBUF_FULL);
    else
        count(COUNTER_SEGMENTS);
    return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
