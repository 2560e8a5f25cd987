using System.Buffers.Binary;
using System.Net.Sockets;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;

namespace Kubebpf.ServiceMap.Services;

/// <summary>
/// Asks the kernel's connection tracking, over netlink (<c>NETLINK_NETFILTER</c>, ctnetlink <c>IPCTNL_MSG_CT_GET</c>)
/// from user space, where a TCP connection (or UDP flow) to an address was really sent: kube-proxy's DNAT rules (iptables, nftables
/// or IPVS) rewrite a service's cluster IP to a backend pod after the packet left the client's veth, and conntrack
/// keeps both tuples (the reply tuple's source is the backend). No kprobe needed. Answers are cached per connection
/// (bounded, expiring); when ctnetlink is unavailable, lookups stop after the first failure, which is logged and counted.
/// Thread-safe (one lock: a lookup is one syscall round trip on a local socket).
/// </summary>
internal sealed partial class ConntrackTranslator : IServiceAddressTranslator, IDisposable
{
    private const int MaxCached = 65_536;
    private const int ReplyBufferBytes = 8192;
    private const ushort NfnlSubsysCtnetlink = 1;
    private const ushort IpctnlMsgCtNew = 0;
    private const ushort IpctnlMsgCtGet = 1;
    private const ushort NlmsgError = 2;
    private const ushort NlmFRequest = 1;
    private const ushort NlaFNested = 0x8000;
    private const ushort CtaTupleOrig = 1;
    private const ushort CtaTupleReply = 2;
    private const ushort CtaTupleIp = 1;
    private const ushort CtaTupleProto = 2;
    private const ushort CtaIpV4Src = 1;
    private const ushort CtaIpV4Dst = 2;
    private const ushort CtaIpV6Src = 3;
    private const ushort CtaIpV6Dst = 4;
    private const ushort CtaProtoNum = 1;
    private const ushort CtaProtoSrcPort = 2;
    private const ushort CtaProtoDstPort = 3;
    private const int Enoent = 2;
    private const int NetlinkNetfilter = 12;

    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    private readonly ILogger<ConntrackTranslator> _logger;
    private readonly TimeProvider _time;
    private readonly Dictionary<(Transport Transport, NetworkEndpoint Client, NetworkEndpoint Server), (NetworkEndpoint Actual, bool Translated, long ExpiresMs)> _cache = [];
    private readonly byte[] _request = new byte[128];
    private readonly byte[] _reply = new byte[ReplyBufferBytes];
    private readonly Counter _lookups;
    private readonly Counter _failures;
    private NetlinkSocket? _socket;
    private bool _unavailable;
    private uint _sequence;

    public ConntrackTranslator(IAgentMetrics metrics, TimeProvider time, ILogger<ConntrackTranslator> logger)
    {
        _logger = logger;
        _time = time;
        _lookups = metrics.Counter("conntrack_lookups", "connections to a service or unknown address looked up in the kernel's connection tracking (not a loss)");
        _failures = metrics.Counter("conntrack_failures", "conntrack lookups that failed (netlink error, ctnetlink unavailable), after which lookups stop: calls to service addresses are then counted on the edge to the address called (a loss of the backend's name)");
    }

    public bool TryTranslate(Transport transport, in NetworkEndpoint client, in NetworkEndpoint server, out NetworkEndpoint actual)
    {
        var key = (transport, client.Canonical(), server.Canonical());
        var nowMs = _time.GetTimestamp() * 1000 / _time.TimestampFrequency;
        lock (_gate)
        {
            if (_cache.TryGetValue(key, out var cached) && cached.ExpiresMs > nowMs)
            {
                actual = cached.Actual;
                return cached.Translated;
            }

            actual = server;
            var translated = !_unavailable && Lookup(transport, key.Item2, key.Item3, out actual);
            if (_cache.Count >= MaxCached)
            {
                _cache.Clear();
            }

            _cache[key] = (actual, translated, nowMs + (long)CacheLifetime.TotalMilliseconds);
            return translated;
        }
    }

    public void Dispose() => _socket?.Dispose();

    private bool Lookup(Transport transport, in NetworkEndpoint client, in NetworkEndpoint server, out NetworkEndpoint actual)
    {
        actual = server;
        if (client.Family != server.Family)
        {
            return false;
        }

        _lookups.Increment();
        try
        {
            _socket ??= NetlinkSocket.Open(NetlinkNetfilter);
            var length = WriteRequest(transport, client, server, ++_sequence);
            _socket.Send(_request.AsSpan(0, length));
            var received = _socket.Receive(_reply);
            if (received >= 16 && BinaryPrimitives.ReadUInt32LittleEndian(_reply.AsSpan(8)) != _sequence)
            {
                received = _socket.Receive(_reply); // a late answer to an earlier request: this one follows
            }

            return ReadReply(_reply.AsSpan(0, received), server, out actual);
        }
        catch (ConntrackException ex) when (ex.Errno == Enoent)
        {
            return false; // the kernel tracks no such connection (any more): nothing to translate
        }
        catch (Exception ex) when (ex is IOException or ConntrackException)
        {
            _failures.Increment();
            _unavailable = true;
            LogUnavailable(ex.Message);
            return false;
        }
    }

    /// <summary>nlmsghdr, nfgenmsg, then CTA_TUPLE_ORIG { CTA_TUPLE_IP { src, dst }, CTA_TUPLE_PROTO { TCP or UDP, sport, dport } }.</summary>
    private int WriteRequest(Transport transport, in NetworkEndpoint client, in NetworkEndpoint server, uint sequence)
    {
        var span = _request.AsSpan();
        span.Clear();
        var v6 = client.Family == AddressFamily.InterNetworkV6;
        var addressBytes = v6 ? 16 : 4;
        var ipLength = 4 + (2 * (4 + addressBytes));
        var protoLength = 4 + 8 + 8 + 8; // num (u8, padded), two ports (u16, padded)
        var origLength = 4 + ipLength + protoLength;
        var length = 16 + 4 + origLength;
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], (ushort)((NfnlSubsysCtnetlink << 8) | IpctnlMsgCtGet));
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], NlmFRequest);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], sequence);
        span[16] = (byte)(v6 ? 10 : 2); // nfgen_family: AF_INET6 or AF_INET; version 0, res_id 0
        var at = 20;
        at = Attribute(span, at, CtaTupleOrig | NlaFNested, origLength);
        at = Attribute(span, at, CtaTupleIp | NlaFNested, ipLength);
        at = AddressAttribute(span, at, v6 ? CtaIpV6Src : CtaIpV4Src, client, addressBytes);
        at = AddressAttribute(span, at, v6 ? CtaIpV6Dst : CtaIpV4Dst, server, addressBytes);
        at = Attribute(span, at, CtaTupleProto | NlaFNested, protoLength);
        span[Attribute(span, at, CtaProtoNum, 5)] = (byte)(transport == Transport.Udp ? ProtocolType.Udp : ProtocolType.Tcp);
        at += 8;
        BinaryPrimitives.WriteUInt16BigEndian(span[Attribute(span, at, CtaProtoSrcPort, 6)..], client.Port);
        at += 8;
        BinaryPrimitives.WriteUInt16BigEndian(span[Attribute(span, at, CtaProtoDstPort, 6)..], server.Port);
        return length;
    }

    private static int Attribute(Span<byte> span, int at, ushort type, int length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[(at + 2)..], type);
        return at + 4;
    }

    private static int AddressAttribute(Span<byte> span, int at, ushort type, in NetworkEndpoint endpoint, int addressBytes)
    {
        var value = Attribute(span, at, type, 4 + addressBytes);
        if (addressBytes == 4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(span[value..], (uint)endpoint.Address);
        }
        else
        {
            BinaryPrimitives.WriteUInt128BigEndian(span[value..], endpoint.Address);
        }

        return value + addressBytes;
    }

    /// <summary>The reply tuple's source is where the kernel sent the connection; translated when it differs from the address called.</summary>
    private static bool ReadReply(ReadOnlySpan<byte> message, in NetworkEndpoint server, out NetworkEndpoint actual)
    {
        actual = server;
        if (message.Length < 20)
        {
            throw new ConntrackException("short netlink reply", 0);
        }

        var type = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
        if (type == NlmsgError)
        {
            var errno = -BinaryPrimitives.ReadInt32LittleEndian(message[16..]);
            throw new ConntrackException($"ctnetlink answered errno {errno}", errno);
        }

        if (type != ((NfnlSubsysCtnetlink << 8) | IpctnlMsgCtNew))
        {
            throw new ConntrackException($"unexpected netlink message type {type}", 0);
        }

        var length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(message), (uint)message.Length);
        var reply = Find(message[20..length], CtaTupleReply);
        var ip = Find(reply, CtaTupleIp);
        var proto = Find(reply, CtaTupleProto);
        var v6 = server.Family == AddressFamily.InterNetworkV6;
        var source = Find(ip, v6 ? CtaIpV6Src : CtaIpV4Src);
        var port = Find(proto, CtaProtoSrcPort);
        if (source.Length < (v6 ? 16 : 4) || port.Length < 2)
        {
            return false;
        }

        actual = new NetworkEndpoint(
            server.Family,
            v6 ? BinaryPrimitives.ReadUInt128BigEndian(source) : BinaryPrimitives.ReadUInt32BigEndian(source),
            BinaryPrimitives.ReadUInt16BigEndian(port));
        return actual != server;
    }

    /// <summary>The payload of the first attribute of <paramref name="type"/> (nested flag ignored), or empty.</summary>
    private static ReadOnlySpan<byte> Find(ReadOnlySpan<byte> attributes, ushort type)
    {
        while (attributes.Length >= 4)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            if (length < 4 || length > attributes.Length)
            {
                return [];
            }

            if ((BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3FFF) == type)
            {
                return attributes[4..length];
            }

            attributes = attributes[Math.Min((length + 3) & ~3, attributes.Length)..];
        }

        return [];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Service addresses are not resolved to backends: the kernel's connection tracking cannot be queried ({Reason}). Is nf_conntrack_netlink available?")]
    private partial void LogUnavailable(string reason);

    private sealed class ConntrackException(string message, int errno) : IOException(message)
    {
        public int Errno { get; } = errno;
    }
}
