/* Shared between http_capture.bpf.c and the C# mirror (plugins/Kubebpf.Http/Capture/SegmentHeader.cs).
 * Only the event struct and constants live here; a test checks sizeof/offsetof on both sides. */
#ifndef KUBEBPF_HTTP_CAPTURE_H
#define KUBEBPF_HTTP_CAPTURE_H

/* Upper bound of the capture_bytes setting: payload bytes copied per TCP segment. */
#define HTTP_CAPTURE_MAX_BYTES 4096

/* tcp_flags bits, as on the wire */
#define SEGMENT_FIN 0x01
#define SEGMENT_SYN 0x02
#define SEGMENT_RST 0x04

/* Indices of the per-CPU "counters" array map. */
enum capture_counter {
    COUNTER_SEGMENTS = 0,        /* segments emitted to the ring buffer */
    COUNTER_RINGBUF_FULL = 1,    /* segments lost: ring buffer reserve failed */
    COUNTER_TRUNCATED = 2,       /* segments whose payload exceeded capture_bytes (rest not copied) */
    COUNTER_UNSUPPORTED_IP = 3,  /* IPv6 with extension headers, IPv4 fragments: not parsed */
    COUNTER_MAX = 4,
};

/* One TCP segment with payload (or a FIN/RST), followed by captured_len payload bytes. */
struct segment_event {
    __u64 timestamp_ns;   /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
    __u32 ifindex;
    __u32 seq;            /* sequence number of the first payload byte */
    __u32 ack;
    __u32 payload_len;    /* TCP payload bytes in the packet (may exceed captured_len) */
    __u16 captured_len;   /* payload bytes that follow this header */
    __u16 sport;          /* host byte order */
    __u16 dport;          /* host byte order */
    __u8 family;          /* 4 or 6 */
    __u8 tcp_flags;
    __u8 pkt_type;        /* PACKET_HOST (0) ... PACKET_OUTGOING (4), from the skb */
    __u8 pad[7];
    __u8 saddr[16];       /* IPv4 in the first 4 bytes, network order */
    __u8 daddr[16];
};

#endif
