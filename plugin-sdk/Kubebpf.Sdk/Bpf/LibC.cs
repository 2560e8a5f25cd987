using System.Runtime.InteropServices;

#pragma warning disable CS8981 // C type names kept verbatim

namespace Kubebpf.Sdk.Bpf;

/// <summary>The few libc calls the BPF layer needs (Linux x86-64 / arm64 ABI). Errno via <c>SetLastError</c>.</summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    internal const int AF_PACKET = 17;
    internal const int SOCK_RAW = 3;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const ushort ETH_P_ALL = 0x0003;
    internal const int SOL_SOCKET = 1;
    internal const int SO_ATTACH_BPF = 50;
    internal const int PROT_READ = 1;
    internal const int PROT_WRITE = 2;
    internal const int MAP_SHARED = 1;
    internal const int RLIMIT_MEMLOCK = 8;
    internal const int CLOCK_REALTIME = 0;
    internal const int CLOCK_MONOTONIC = 1;
    internal const short POLLIN = 1;
    internal const short POLLERR = 8;
    internal const short POLLNVAL = 0x20;
    internal const int EINTR = 4;
    internal const int EFD_NONBLOCK = 0x800;
    internal const int EFD_CLOEXEC = 0x80000;
    internal static readonly nint MapFailed = -1;

    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_ll
    {
        public ushort sll_family;
        public ushort sll_protocol;
        public int sll_ifindex;
        public ushort sll_hatype;
        public byte sll_pkttype;
        public byte sll_halen;
        public ulong sll_addr;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct rlimit
    {
        public ulong rlim_cur;
        public ulong rlim_max;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct timespec
    {
        public long tv_sec;
        public long tv_nsec;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct pollfd
    {
        public int fd;
        public short events;
        public short revents;
    }

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int poll(pollfd* fds, nuint nfds, int timeout);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int eventfd(uint initval, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int bind(int fd, sockaddr_ll* addr, uint addrlen);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int setsockopt(int fd, int level, int optname, void* optval, uint optlen);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint if_nametoindex(string ifname);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int munmap(nint addr, nuint length);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mount(string source, string target, string filesystemtype, nuint mountflags, nint data);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int setrlimit(int resource, rlimit* rlim);

    [LibraryImport(Lib)]
    internal static partial uint geteuid();

    [LibraryImport(Lib)]
    internal static partial int clock_gettime(int clockid, timespec* tp);

    [LibraryImport(Lib)]
    internal static partial int vsnprintf(byte* str, nuint size, byte* format, nint ap);
}
