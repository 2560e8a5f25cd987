// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Packet capture, one source for two attachments: a socket filter on an AF_PACKET raw socket per interface
 * (packet_capture), or tc clsact filters on the interface's ingress and egress hooks (capture_ingress,
 * capture_egress). Both run capture() below, which copies TCP segments and UDP datagrams, IPv4 and IPv6, into the
 * "packets" ring buffer, each record a struct packet_event followed by its captured payload bytes. A TCP segment's
 * payload (up to max_segment_bytes) is copied whole when it may hold message heads throughout (it is short, starts
 * with a message start the protocols declared, or continues a segment copied whole within CAPTURE_HEAD_WINDOW_BYTES),
 * else its two ends, in records of at most CAPTURE_CHUNK_BYTES; segments without payload are kept only when they carry
 * SYN, FIN or RST. A UDP datagram is one record of at most CAPTURE_CHUNK_BYTES.
 * The socket filter returns 0, so the raw socket itself never queues a packet; the tc filters return TC_ACT_UNSPEC,
 * so traffic passes unchanged and the hook's next filter (another tool's) still runs: TC_ACT_OK would end the chain.
 * The ring buffer is the only output. A record wakes user space only when the ring was empty before it (the kernel's
 * default, flags 0): the consumer waits on the ring while it is idle, and while records flow it drains every few
 * milliseconds without waiting on it, so at most one wakeup per drain is raised, never one per record. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "packet_capture.h"

#define VLAN_HLEN 4
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IP6_MF 0x0001
#define IP6_OFFSET 0xfff8
#define IPV6_MAX_EXTENSIONS 6
#define LOOPBACK_IFINDEX 1
#define MAX_CHUNKS (CAPTURE_MAX_SEGMENT_BYTES / CAPTURE_CHUNK_BYTES)

_Static_assert((CAPTURE_CHUNK_BYTES & (CAPTURE_CHUNK_BYTES - 1)) == 0, "the length mask needs a power of two");
_Static_assert(MAX_CHUNKS * CAPTURE_CHUNK_BYTES == CAPTURE_MAX_SEGMENT_BYTES, "a segment splits into whole chunks");
_Static_assert(sizeof(struct packet_event) == 72, "the C# mirror (PacketHeader) is 72 bytes");
_Static_assert(CAPTURE_MAX_BODY_END_BYTES <= CAPTURE_CHUNK_BYTES, "a body end is one record");
_Static_assert(2 * CAPTURE_MAX_BODY_END_BYTES <= CAPTURE_WHOLE_SEGMENT_BYTES, "a segment cut to its ends is longer than both");

/* TCP payload bytes copied per segment; set by user space before load, clamped to CAPTURE_MAX_SEGMENT_BYTES. */
const volatile __u32 max_segment_bytes = CAPTURE_MAX_SEGMENT_BYTES;

/* Bytes of each end copied of a segment inside a body: CAPTURE_BODY_END_BYTES, 2 KiB or CAPTURE_MAX_BODY_END_BYTES
 * (set by user space before load; other values are rounded up to one of them), unless one of its ports is below. */
const volatile __u32 body_end_bytes = CAPTURE_BODY_END_BYTES;

/* Server ports whose protocol asks for larger ends than body_end_bytes (user space sets them before load). */
const volatile struct body_end_port body_end_ports[CAPTURE_MAX_BODY_END_PORTS] = {};
const volatile __u32 body_end_port_count = 0;

/* Nonzero: copy every TCP segment whole (CopyBinarySegments). */
const volatile __u8 whole_binary_segments = 0;

/* The message starts the protocols declared (user space sets them before load), and whether segments that start
 * like text are copied whole too (while a protocol declared none: the rule before protocols could declare). */
const volatile struct message_start message_starts[CAPTURE_MAX_MESSAGE_STARTS] = {};
const volatile __u32 message_start_count = 0;
const volatile __u8 whole_text_segments = 1;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 8 << 20); /* user space resizes it before load */
} packets SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, COUNTER_MAX);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

/* The last segment copied whole of a flow and direction (see CAPTURE_HEAD_WINDOW_BYTES). Written from any CPU without
 * locks: a torn slot only grants or refuses one whole copy wrongly, which costs a copy or falls back to the ends. */
struct head_window {
    __u32 flow;       /* the flow's hash, to tell the flows sharing the slot apart */
    __u32 next_seq;   /* the sequence number right after that segment */
    __u32 window_end; /* continuations are copied whole while they start before this */
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, CAPTURE_HEAD_WINDOW_SLOTS);
    __type(key, __u32);
    __type(value, struct head_window);
} head_windows SEC(".maps");

/* Staging area: the record header is assembled here. A full chunk is then loaded straight into a record reserved in
 * the ring; a shorter one is loaded here and copied with its exact length (bpf_ringbuf_reserve takes a constant size:
 * reserving a whole chunk per record would waste most of the ring on small packets). */
struct staging {
    struct packet_event hdr;
    __u8 payload[CAPTURE_CHUNK_BYTES];
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

/* Headers are read from at most this offset straight from packet memory (tc); beyond it, or past the linear part,
 * with bpf_skb_load_bytes. Ethernet, a VLAN tag, IPv6 and its extension headers stay well below it. */
#define MAX_DIRECT_OFFSET 512

/* Reads len (a constant) header bytes at off into to. tc programs read packet memory directly while it holds them
 * (the linear part, where the stack keeps headers): no helper call, the cheapest read. Socket filters may not, and
 * bytes past the linear part need the helper in both. Returns 0 or a negative errno. */
static __always_inline int load(struct __sk_buff *skb, __u32 off, void *to, const __u32 len, const int direct)
{
    if (direct && off <= MAX_DIRECT_OFFSET) {
        void *data = (void *)(long)skb->data;
        void *data_end = (void *)(long)skb->data_end;
        if (data + off + len <= data_end) {
            __builtin_memcpy(to, data + off, len);
            return 0;
        }
    }
    return bpf_skb_load_bytes(skb, off, to, len);
}

/* Extension headers that may stand between an IPv6 header and a TCP/UDP header. */
static __always_inline int is_ipv6_extension(__u8 nexthdr)
{
    return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING || nexthdr == IPPROTO_DSTOPTS ||
           nexthdr == IPPROTO_FRAGMENT || nexthdr == IPPROTO_AH;
}

static __always_inline int may_carry_transport(__u8 nexthdr)
{
    return nexthdr == IPPROTO_TCP || nexthdr == IPPROTO_UDP || is_ipv6_extension(nexthdr);
}

/* Walks the IPv6 extension headers from *off. Returns IPPROTO_TCP or IPPROTO_UDP with *off at that header, or 0 when
 * the packet is to be ignored (counted when it may carry TCP/UDP we cannot parse). */
static __always_inline __u8 skip_ipv6_extensions(struct __sk_buff *skb, __u8 nexthdr, __u32 *off, const int direct)
{
    for (int i = 0; i < IPV6_MAX_EXTENSIONS; i++) {
        if (nexthdr == IPPROTO_TCP || nexthdr == IPPROTO_UDP)
            return nexthdr;
        if (!is_ipv6_extension(nexthdr))
            return 0; /* ICMPv6 (NDP, MLD), ESP, no next header, ...: not ours */

        /* Every extension header starts with next header and a length byte; the fragment header has its offset
         * and M flag in the next two bytes. */
        struct {
            __u8 nexthdr;
            __u8 len;
            __be16 frag_off;
        } ext;
        if (load(skb, *off, &ext, sizeof(ext), direct) < 0)
            return 0;
        if (nexthdr == IPPROTO_FRAGMENT) {
            if (ext.frag_off & bpf_htons(IP6_OFFSET | IP6_MF)) {
                if (may_carry_transport(ext.nexthdr))
                    count(COUNTER_UNSUPPORTED_IP);
                return 0;
            }
            *off += 8; /* an atomic fragment: the whole packet is here */
        } else if (nexthdr == IPPROTO_AH) {
            *off += ((__u32)ext.len + 2) * 4;
        } else {
            *off += ((__u32)ext.len + 1) * 8;
        }
        nexthdr = ext.nexthdr;
    }
    if (nexthdr == IPPROTO_TCP || nexthdr == IPPROTO_UDP)
        return nexthdr;
    if (is_ipv6_extension(nexthdr))
        count(COUNTER_UNSUPPORTED_IP); /* more extension headers than we walk */
    return 0;
}

/* Whether 8 bytes (a little-endian word) look like text (printable ASCII, CR, LF or TAB), as message heads and text
 * commands do and binary bodies (images, compressed or encrypted data) do not. */
static __always_inline int looks_like_text(__u64 start)
{
    for (int i = 0; i < 8; i++) {
        __u8 c = start >> (i * 8);
        if ((c < 0x20 || c > 0x7e) && c != '\r' && c != '\n' && c != '\t')
            return 0;
    }
    return 1;
}

/* Whether the TCP payload at off starts with a declared message start (or is copied whole for another reason), so
 * that message heads may lie anywhere in it (pipelined, or one longer than a chunk). A segment starting elsewhere
 * lies inside a body: text or binary, only its ends matter. */
static __always_inline int copies_whole(struct __sk_buff *skb, __u32 off, const int direct)
{
    if (whole_binary_segments)
        return 1;
    __u64 start;
    if (load(skb, off, &start, sizeof(start), direct) < 0)
        return 1;
    for (__u32 i = 0; i < CAPTURE_MAX_MESSAGE_STARTS; i++) {
        if (i >= message_start_count)
            break;
        if ((start & message_starts[i].mask) == message_starts[i].value)
            return 1;
    }
    return whole_text_segments && looks_like_text(start);
}

/* A hash of the record's interface, addresses and ports: one direction of a flow as one interface sees it (the same
 * segment crosses both pods' veths, and each must find its own predecessor). */
static __always_inline __u32 flow_hash(const struct packet_event *ev)
{
    __u32 words[8];
    __builtin_memcpy(words, ev->saddr, 16);
    __builtin_memcpy(words + 4, ev->daddr, 16);
    __u32 h = (((__u32)ev->sport << 16 | ev->dport) ^ ev->ifindex * 0xC2B2AE3Du) * 0x9E3779B1u;
    for (int i = 0; i < 8; i++)
        h = (h ^ words[i]) * 0x85EBCA77u;
    return h ^ (h >> 15);
}

/* Emits a record of exactly size (a constant) payload bytes from off, loaded straight into the ring: one copy instead
 * of two. */
static __always_inline void emit_exact(struct __sk_buff *skb, struct staging *st, __u32 off, const __u32 size)
{
    struct packet_event *record = bpf_ringbuf_reserve(&packets, sizeof(*record) + size, 0);
    if (!record) {
        count(COUNTER_RINGBUF_FULL);
        return;
    }
    __builtin_memcpy(record, &st->hdr, sizeof(*record));
    record->captured_len = bpf_skb_load_bytes(skb, off, record + 1, size) < 0 ? 0 : size;
    bpf_ringbuf_submit(record, 0);
    count(COUNTER_PACKETS);
}

/* Bytes of each end copied of a segment between these ports, rounded up to 1, 2 or 4 KiB: the largest a declared
 * server port asks for, else body_end_bytes. Only segments cut to their ends pay for the lookup. */
static __always_inline __u32 body_end_for(__u16 sport, __u16 dport)
{
    __u32 end = body_end_bytes;
    for (__u32 i = 0; i < CAPTURE_MAX_BODY_END_PORTS; i++) {
        if (i >= body_end_port_count)
            break;
        __u16 port = body_end_ports[i].port;
        if ((port == sport || port == dport) && body_end_ports[i].end_bytes > end)
            end = body_end_ports[i].end_bytes;
    }
    return end <= CAPTURE_BODY_END_BYTES ? CAPTURE_BODY_END_BYTES
         : end <= 2 * CAPTURE_BODY_END_BYTES ? 2 * CAPTURE_BODY_END_BYTES
         : CAPTURE_MAX_BODY_END_BYTES;
}

/* Emits one end of a segment inside a body: end bytes from off (reserved with a constant size, so one of three). */
static __always_inline void emit_end(struct __sk_buff *skb, struct staging *st, __u32 off, __u32 end)
{
    if (end == CAPTURE_BODY_END_BYTES)
        emit_exact(skb, st, off, CAPTURE_BODY_END_BYTES);
    else if (end == 2 * CAPTURE_BODY_END_BYTES)
        emit_exact(skb, st, off, 2 * CAPTURE_BODY_END_BYTES);
    else
        emit_exact(skb, st, off, CAPTURE_MAX_BODY_END_BYTES);
}

/* Copies len (<= CAPTURE_CHUNK_BYTES) payload bytes from off behind the header staged in st, and emits the record. */
static __always_inline void emit(struct __sk_buff *skb, struct staging *st, __u32 off, __u32 len)
{
    if (len == CAPTURE_CHUNK_BYTES) {
        emit_exact(skb, st, off, CAPTURE_CHUNK_BYTES);
        return;
    }
    /* Clang proves len < CAPTURE_CHUNK_BYTES here and drops the bound the verifier needs for both copies below: hide
     * the length from clang (as a 64-bit value, or clang re-extends the unchecked 32-bit copy), then bound it where
     * the verifier sees it. */
    __u64 size = len;
    asm volatile("" : "+r"(size));
    if (size > CAPTURE_CHUNK_BYTES)
        size = CAPTURE_CHUNK_BYTES;
    if (size > 0 && bpf_skb_load_bytes(skb, off, st->payload, size) < 0)
        size = 0; /* payload_len still says how many bytes this record stands for */
    st->hdr.captured_len = size;
    if (bpf_ringbuf_output(&packets, st, sizeof(st->hdr) + size, 0) < 0)
        count(COUNTER_RINGBUF_FULL);
    else
        count(COUNTER_PACKETS);
}

/* Fills the header fields every record of this packet shares but the addresses. */
static __always_inline void stamp(struct packet_event *ev, struct __sk_buff *skb, __u8 protocol, __u8 pkt_type)
{
    ev->timestamp_ns = bpf_ktime_get_ns();
    ev->ifindex = skb->ifindex;
    ev->pkt_type = pkt_type;
    ev->protocol = protocol;
}

/* Ethernet, IPv4 without options and the TCP header, as one read fills them: the two bytes of padding keep the IP
 * and TCP words aligned on the stack, which the verifier requires. */
struct common_headers {
    __u8 pad[2];
    __u8 macs[12];
    __be16 proto;
    struct iphdr ip;
    union {
        struct tcphdr tcp;
        struct udphdr udp;
    } l4;
};

/* Copies the packet in skb (starting with its Ethernet header) to the ring; pkt_type is the skb's, or PACKET_OUTGOING
 * for a packet leaving the interface; direct: the program may read packet memory (tc). */
static __always_inline void capture(struct __sk_buff *skb, __u8 pkt_type, const int direct)
{
    __u32 key = 0;
    struct staging *st = bpf_map_lookup_elem(&scratch, &key);
    if (!st)
        return;
    struct packet_event *ev = &st->hdr;
    __builtin_memset(ev, 0, sizeof(*ev));

    /* A socket filter reads the usual packet's headers, untagged Ethernet, IPv4 without options and TCP or UDP, in one
     * helper call instead of three; others (ARP, VLAN tags, IPv6, IP options, packets shorter than these headers)
     * header by header, as tc programs read all (straight from the packet: no call to save). */
    struct common_headers h;
    int common = !direct && bpf_skb_load_bytes(skb, 0, h.macs, sizeof(h) - sizeof(h.pad)) == 0;
    __u32 off = ETH_HLEN;
    __be16 proto;
    if (common)
        proto = h.proto;
    else if (load(skb, 12, &proto, sizeof(proto), direct) < 0)
        return;
    if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
        if (load(skb, 16, &proto, sizeof(proto), direct) < 0)
            return;
        off += VLAN_HLEN;
        common = 0;
    }

    __u32 ip_payload_end; /* offset of the end of the IP payload, from the IP header's length field */
    __u8 protocol;
    if (proto == bpf_htons(ETH_P_IP)) {
        struct iphdr ip;
        if (common && h.ip.ihl == 5) {
            ip = h.ip;
        } else {
            common = 0; /* options (or a tag) move the transport header */
            if (load(skb, off, &ip, sizeof(ip), direct) < 0)
                return;
        }
        if ((ip.protocol != IPPROTO_TCP && ip.protocol != IPPROTO_UDP) || ip.ihl < 5)
            return;
        if (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
            count(COUNTER_UNSUPPORTED_IP);
            return;
        }
        __u32 tot_len = bpf_ntohs(ip.tot_len);
        /* tot_len 0: a BIG TCP (GSO) packet larger than 64 KiB; the skb length is authoritative. */
        ip_payload_end = tot_len ? off + tot_len : skb->len;
        __builtin_memcpy(ev->saddr, &ip.saddr, 4);
        __builtin_memcpy(ev->daddr, &ip.daddr, 4);
        ev->family = 4;
        protocol = ip.protocol;
        off += ip.ihl * 4;
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        common = 0;
        struct ipv6hdr ip6;
        if (load(skb, off, &ip6, sizeof(ip6), direct) < 0)
            return;
        off += sizeof(ip6);
        __u32 plen = bpf_ntohs(ip6.payload_len);
        ip_payload_end = plen ? off + plen : skb->len;
        protocol = skip_ipv6_extensions(skb, ip6.nexthdr, &off, direct);
        if (!protocol)
            return;
        __builtin_memcpy(ev->saddr, &ip6.saddr, 16);
        __builtin_memcpy(ev->daddr, &ip6.daddr, 16);
        ev->family = 6;
    } else {
        return;
    }

    /* Ethernet padding of short frames lies beyond the IP length; a truncated skb ends before it. */
    __u32 end = ip_payload_end < skb->len ? ip_payload_end : skb->len;

    if (protocol == IPPROTO_UDP) {
        stamp(ev, skb, protocol, pkt_type);
        struct udphdr udp;
        if (common)
            udp = h.l4.udp;
        else if (load(skb, off, &udp, sizeof(udp), direct) < 0)
            return;
        off += sizeof(udp);
        __u32 available = end > off ? end - off : 0;
        __u32 udp_len = bpf_ntohs(udp.len);
        /* A UDP length of 0 (IPv6 jumbogram) or below the header's: the IP length is all there is. */
        __u32 payload_len = udp_len >= sizeof(udp) && udp_len - sizeof(udp) < available ? udp_len - sizeof(udp) : available;
        ev->sport = bpf_ntohs(udp.source);
        ev->dport = bpf_ntohs(udp.dest);
        ev->payload_len = payload_len;
        __u32 len = payload_len;
        if (len > CAPTURE_CHUNK_BYTES) {
            len = CAPTURE_CHUNK_BYTES;
            count(COUNTER_TRUNCATED);
        }
        emit(skb, st, off, len);
        return;
    }

    struct tcphdr tcp;
    if (common)
        tcp = h.l4.tcp;
    else if (load(skb, off, &tcp, sizeof(tcp), direct) < 0)
        return;
    if (tcp.doff < 5)
        return;
    __u8 flags = ((__u8 *)&tcp)[13];
    off += tcp.doff * 4;
    __u32 payload_len = end > off ? end - off : 0;
    if (payload_len == 0 && !(flags & (PACKET_SYN | PACKET_FIN | PACKET_RST)))
        return; /* a pure ACK: about a third of the packets, so before the clock is read */
    stamp(ev, skb, protocol, pkt_type);

    __u32 limit = max_segment_bytes;
    if (limit > CAPTURE_MAX_SEGMENT_BYTES)
        limit = CAPTURE_MAX_SEGMENT_BYTES;
    __u32 copied = payload_len < limit ? payload_len : limit;
    if (payload_len > copied)
        count(COUNTER_TRUNCATED);
    __u32 seq = bpf_ntohl(tcp.seq);
    ev->ack = bpf_ntohl(tcp.ack_seq);
    ev->sport = bpf_ntohs(tcp.source);
    ev->dport = bpf_ntohs(tcp.dest);

    /* A long segment that starts inside a body (sendfile of a file, say) carries no head at its start. Only its ends
     * are copied: where the body may end and the next head begin, and where a head written behind a body's tail lands
     * when the stack coalesces the two. This keeps bodies from filling the ring and from costing the filter their
     * copy. The first record stands for the bytes between. */
    /* A segment of some size looks up its flow's slot: to continue a head copied whole, and to be remembered. Small
     * segments, most of them, skip it: a head written whole needs no window. */
    struct head_window *window = 0;
    __u32 flow = 0;
    if (copied >= CAPTURE_HEAD_WINDOW_MIN_BYTES) {
        flow = flow_hash(ev);
        __u32 slot = flow & (CAPTURE_HEAD_WINDOW_SLOTS - 1);
        window = bpf_map_lookup_elem(&head_windows, &slot);
    }
    int continues_head = window && window->flow == flow && window->next_seq == seq && (__s32)(window->window_end - seq) > 0;

    if (copied > CAPTURE_WHOLE_SEGMENT_BYTES && !continues_head && !copies_whole(skb, off, direct)) {
        __u32 end = body_end_for(ev->sport, ev->dport);
        __u32 tail_start = copied - end;
        ev->seq = seq;
        ev->payload_len = tail_start;
        ev->tcp_flags = flags & ~(PACKET_FIN | PACKET_RST);
        emit_end(skb, st, off, end);
        ev->seq = seq + tail_start;
        ev->payload_len = payload_len - tail_start;
        ev->tcp_flags = flags & ~PACKET_SYN;
        emit_end(skb, st, off + tail_start, end);
        return;
    }
    if (continues_head) {
        window->next_seq = seq + payload_len;
    } else if (window && (copied > CAPTURE_WHOLE_SEGMENT_BYTES || copies_whole(skb, off, direct))) {
        /* A segment that starts a message opens a window; one inside a body (short, so copied whole) does not. */
        window->flow = flow;
        window->next_seq = seq + payload_len;
        window->window_end = seq + CAPTURE_HEAD_WINDOW_BYTES;
    }
    __u32 records = copied ? (copied + CAPTURE_CHUNK_BYTES - 1) / CAPTURE_CHUNK_BYTES : 1;

    /* One record per chunk: SYN stays on the first, FIN and RST on the last, which also stands for the bytes not
     * copied (payload_len > captured_len). */
    for (__u32 i = 0; i < MAX_CHUNKS; i++) {
        if (i >= records)
            break;
        __u32 done = i * CAPTURE_CHUNK_BYTES;
        __u32 len = copied - done;
        if (len > CAPTURE_CHUNK_BYTES)
            len = CAPTURE_CHUNK_BYTES;
        int last = i + 1 == records;
        ev->seq = seq + done;
        ev->payload_len = last ? payload_len - done : len;
        ev->tcp_flags = flags & ~((i ? PACKET_SYN : 0) | (last ? 0 : PACKET_FIN | PACKET_RST));
        emit(skb, st, off + done, len);
    }
}

SEC("socket")
int packet_capture(struct __sk_buff *skb)
{
    __u8 pkt_type = skb->pkt_type;
    /* Loopback shows every packet twice (outgoing, then incoming): keep the incoming copy. */
    if (!(skb->ifindex == LOOPBACK_IFINDEX && pkt_type == PACKET_OUTGOING))
        capture(skb, pkt_type, 0);
    return 0;
}

/* tc programs see the packet once per direction, with no clone; user space attaches capture_egress to every observed
 * interface but loopback, whose packets it keeps as they come in. */
SEC("tc")
int capture_ingress(struct __sk_buff *skb)
{
    capture(skb, skb->pkt_type, 1);
    return TC_ACT_UNSPEC;
}

SEC("tc")
int capture_egress(struct __sk_buff *skb)
{
    capture(skb, PACKET_OUTGOING, 1);
    return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
