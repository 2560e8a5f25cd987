using System.Runtime.InteropServices;

namespace Kubebpf.ServiceMap.Services;

/// <summary>
/// A netlink socket through libc: <see cref="System.Net.Sockets.Socket"/> refuses <c>AF_NETLINK</c>. Requests go to
/// the kernel (port id 0, no bind needed); a receive waits at most a second, so a lost answer cannot stall the
/// capture thread.
/// </summary>
internal sealed partial class NetlinkSocket : SafeHandle
{
    private const int AfNetlink = 16;
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int SolSocket = 1;
    private const int SoRcvtimeo = 20;

    private NetlinkSocket()
        : base(-1, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == -1;

    /// <summary>Opens a socket of netlink family <paramref name="protocol"/> (e.g. 12, <c>NETLINK_NETFILTER</c>).</summary>
    /// <exception cref="IOException">socket(2) failed; the message names the errno.</exception>
    public static NetlinkSocket Open(int protocol)
    {
        var fd = socket(AfNetlink, SockRaw | SockCloexec, protocol);
        if (fd < 0)
        {
            throw Error("socket(AF_NETLINK)");
        }

        var opened = new NetlinkSocket();
        opened.SetHandle(fd);
        Span<long> timeout = [1, 0]; // struct timeval: 1 s
        if (setsockopt(fd, SolSocket, SoRcvtimeo, MemoryMarshal.AsBytes(timeout), sizeof(long) * 2) < 0)
        {
            var error = Error("setsockopt(SO_RCVTIMEO)");
            opened.Dispose();
            throw error;
        }

        return opened;
    }

    /// <summary>Sends one message to the kernel.</summary>
    public void Send(ReadOnlySpan<byte> message)
    {
        if (send(Fd, message, (nuint)message.Length, 0) != message.Length)
        {
            throw Error("send(netlink)");
        }
    }

    /// <summary>Receives one message into <paramref name="buffer"/>; returns its length.</summary>
    public int Receive(Span<byte> buffer)
    {
        var received = recv(Fd, buffer, (nuint)buffer.Length, 0);
        return received >= 0 ? (int)received : throw Error("recv(netlink)");
    }

    protected override bool ReleaseHandle() => close((int)handle) == 0;

    private int Fd => (int)handle;

    private static IOException Error(string call) => new($"{call} failed: {Marshal.GetLastPInvokeErrorMessage()} (errno {Marshal.GetLastPInvokeError()})");

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, ReadOnlySpan<byte> value, uint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint send(int fd, ReadOnlySpan<byte> buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint recv(int fd, Span<byte> buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
