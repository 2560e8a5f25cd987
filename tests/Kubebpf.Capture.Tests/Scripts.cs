using System.Text;

namespace Kubebpf.Capture.Tests;

/// <summary>The Python clients and servers of the filter tests (run with <c>PodPython</c>), and the payloads they exchange.</summary>
internal static class Scripts
{
    /// <summary>
    /// TCP client: connects to host:port (argv 1, 2), sends the file argv 3 with one <c>sendall</c> (a send buffer large
    /// enough for one <c>send</c>), reads until the server closes, prints the response's status line.
    /// </summary>
    public const string SendFileOnce = """
        import socket, sys
        host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        data = open(path, 'rb').read()
        s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * len(data))
        s.connect((host, port))
        s.sendall(data)
        response = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            response += chunk
        print(response.split(b'\r\n', 1)[0].decode())
        """;

    /// <summary>
    /// UDP server: binds port argv 2 (argv 1: 4 or 6), answers argv 3 datagrams "ping..." with "pong..." (same tail),
    /// marked "pong+dstopts..." when the datagram came with an IPv6 destination-options header.
    /// </summary>
    public const string UdpServer = """
        import socket, sys
        v6, port, count = sys.argv[1] == '6', int(sys.argv[2]), int(sys.argv[3])
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
        if v6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVDSTOPTS, 1)
        s.bind(('::' if v6 else '0.0.0.0', port))
        for _ in range(count):
            data, ancillary, _, peer = s.recvmsg(65535, 1024)
            marker = b'+dstopts' if any(kind == socket.IPV6_DSTOPTS for _, kind, _ in ancillary) else b''
            s.sendto(b'pong' + marker + data[4:], peer)
        """;

    /// <summary>
    /// UDP client: sends argv 3 datagrams <see cref="Ping"/>(i, argv 4) to host:port (argv 1, 2), one at a time, each
    /// awaiting its answer; "dstopts" as argv 5 adds an IPv6 destination-options header (PadN) to every datagram.
    /// Prints each answer's marker ("pong" or "pong+dstopts").
    /// </summary>
    public const string UdpClient = """
        import socket, sys
        host, port, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        if sys.argv[5:] == ['dstopts']:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, bytes([0, 0, 1, 4, 0, 0, 0, 0]))
        for i in range(count):
            tail = (b'-%04d-' % i).ljust(size + i, b'x')
            s.sendto(b'ping' + tail, (host, port))
            reply, _ = s.recvfrom(65535)
            if not reply.endswith(tail):
                sys.exit('unexpected answer %r' % reply[:40])
            print(reply[:len(reply) - len(tail)].decode())
        """;

    /// <summary>Joins and leaves an IPv6 multicast group on eth0: two MLDv2 reports, each behind a hop-by-hop header.</summary>
    public const string JoinMulticastGroup = """
        import socket, struct
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        group = socket.inet_pton(socket.AF_INET6, 'ff05::1:3') + struct.pack('@I', socket.if_nametoindex('eth0'))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group)
        s.close()
        """;

    /// <summary>The payload of the client's datagram <paramref name="index"/> (of size <paramref name="size"/> + index + 4).</summary>
    public static byte[] Ping(int index, int size) => Encoding.ASCII.GetBytes("ping" + $"-{index:D4}-".PadRight(size + index, 'x'));

    /// <summary>The server's answer to <see cref="Ping"/>.</summary>
    public static byte[] Pong(int index, int size) => Encoding.ASCII.GetBytes("pong" + $"-{index:D4}-".PadRight(size + index, 'x'));
}
