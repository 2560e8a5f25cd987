/* Shared between packet_capture.bpf.c and the C# mirror (plugins/Kubebpf.Capture/Capture/PacketHeader.cs).
 * Only the event struct and constants live here; a test checks sizeof/offsetof on both sides. */
#ifndef KUBEBPF_PACKET_CAPTURE_H
#define KUBEBPF_PACKET_CAPTURE_H

/* Payload bytes one ring record carries at most: a larger TCP segment is split into several records. */
#define CAPTURE_CHUNK_BYTES 4096

/* TCP segments up to this many payload bytes are copied whole, whatever they start with: what keeps a head longer
 * than its segment whole, since its continuation starts with no message start (1 KiB segments lost the rest of a
 * 12 KB request line, and requests pipelined in one 13 KB write). */
#define CAPTURE_WHOLE_SEGMENT_BYTES 8192

/* Bytes copied of each end of a longer TCP segment that lies inside a body (one that starts with no message start):
 * where the body may end and the next head begin, and where a head written behind a body's tail lands when the stack
 * coalesces the two. Ends cost the filter in proportion to their size on every segment of every large body (4 KiB
 * ends cost a 16 KB response 2.4 times the filter time of the HTTP-only agent's 1 KiB heads), and a head that ends
 * there is shorter than a kilobyte nearly always. Ends are 1, 2 or 4 KiB, chosen per segment: a parser that
 * resynchronises from the bytes around a gap asks for more on its server ports (body_end_ports), every other flow
 * gets body_end_bytes (1 KiB unless a protocol found by sniffing alone asks for more). */
#define CAPTURE_BODY_END_BYTES 1024
#define CAPTURE_MAX_BODY_END_BYTES 4096

/* Most server ports with ends of their own (more: user space folds them all into body_end_bytes). */
#define CAPTURE_MAX_BODY_END_PORTS 16

/* A server port whose flows get larger body ends: a segment from or to it is cut to end_bytes (2 or 4 KiB). */
struct body_end_port {
    __u16 port;
    __u16 end_bytes;
};

/* A segment longer than CAPTURE_WHOLE_SEGMENT_BYTES that starts with no message start is still copied whole when it
 * continues, byte for byte, a segment of its flow that was copied whole and lies within this many bytes of where that
 * one began: a head written in one go whose first part the stack sent on its own (the sender's buffer took only part
 * of the write, or a pause split it) continues there. 16 KiB covers a 12 KB request line and 13 KB of pipelined heads;
 * a body that follows a short head is copied whole only up to here. */
#define CAPTURE_HEAD_WINDOW_BYTES 16384

/* Segments shorter than this neither open nor look up a window: a head this short is written whole, and the filter
 * spends nothing on the small segments that are most of the traffic (nor does a short head in front of a body sent on
 * its own, sendfile's, open the body to a whole copy). */
#define CAPTURE_HEAD_WINDOW_MIN_BYTES 512

/* Slots of the table that remembers, per flow, the last segment copied whole (flows share a slot when their hashes
 * agree in the low bits: the loser only goes back to the ends-only rule). */
#define CAPTURE_HEAD_WINDOW_SLOTS 4096

/* Upper bound of the max_segment_bytes setting: TCP payload bytes copied per segment (64 KiB, the largest GSO
 * segment without BIG TCP). */
#define CAPTURE_MAX_SEGMENT_BYTES 65536

/* Most message starts the protocols may declare: a TCP segment longer than one chunk is copied whole only when its
 * first 8 bytes start with one of them (or, while a protocol declared none, when they look like text). */
#define CAPTURE_MAX_MESSAGE_STARTS 32

/* One declared message start: the first 8 payload bytes, read as a little-endian word and masked, equal value. */
struct message_start {
    __u64 value;
    __u64 mask;
};

/* tcp_flags bits, as on the wire */
#define PACKET_FIN 0x01
#define PACKET_SYN 0x02
#define PACKET_RST 0x04
#define PACKET_ACK 0x10

/* Indices of the per-CPU "counters" array map. */
enum capture_counter {
    COUNTER_PACKETS = 0,         /* records emitted to the ring buffer */
    COUNTER_RINGBUF_FULL = 1,    /* records lost: ring buffer reserve failed */
    COUNTER_TRUNCATED = 2,       /* TCP segments past max_segment_bytes, UDP datagrams past CAPTURE_CHUNK_BYTES */
    COUNTER_UNSUPPORTED_IP = 3,  /* packets that carry (or may carry) TCP/UDP but cannot be parsed: fragments,
                                    too many IPv6 extension headers */
    COUNTER_MAX = 4,
};

/* One record: a TCP segment's payload chunk (or a SYN/FIN/RST), or a UDP datagram, followed by captured_len payload
 * bytes. */
struct packet_event {
    __u64 timestamp_ns;   /* bpf_ktime_get_ns(): CLOCK_MONOTONIC; the same for every record of one packet */
    __u32 ifindex;
    __u32 seq;            /* TCP: sequence number of the first payload byte of THIS record; UDP: 0 */
    __u32 ack;
    __u32 payload_len;    /* TCP: payload bytes this record stands for (bytes past captured_len were not copied);
                             UDP: datagram payload length */
    __u16 captured_len;   /* payload bytes that follow the header */
    __u16 sport;          /* host byte order */
    __u16 dport;          /* host byte order */
    __u8 family;          /* 4 or 6 */
    __u8 tcp_flags;       /* raw TCP flags byte; 0 for UDP */
    __u8 pkt_type;        /* PACKET_HOST (0) ... PACKET_OUTGOING (4), from the skb */
    __u8 protocol;        /* IPPROTO_TCP (6) or IPPROTO_UDP (17) */
    __u8 pad[6];
    __u8 saddr[16];       /* IPv4 in the first 4 bytes, network order */
    __u8 daddr[16];
};

#endif
