using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Kubebpf.Sdk.Bpf;

/// <summary>
/// An <c>AF_PACKET</c>/<c>SOCK_RAW</c> socket bound to one interface with a socket-filter program attached
/// (<c>SO_ATTACH_BPF</c>). The program sees every frame of the interface, both directions; what it returns decides
/// what the socket queues (a capture filter that returns 0 keeps the socket empty). Disposing closes the socket,
/// which detaches the program.
/// </summary>
public sealed unsafe class RawPacketSocket : SafeHandleMinusOneIsInvalid
{
    private RawPacketSocket()
        : base(ownsHandle: true)
    {
    }

    /// <summary>The interface index the socket is bound to.</summary>
    public int InterfaceIndex { get; private set; }

    /// <summary>Opens a socket on the interface named <paramref name="interfaceName"/> and attaches <paramref name="program"/>.</summary>
    public static RawPacketSocket Open(string interfaceName, BpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var index = LibC.if_nametoindex(interfaceName);
        if (index == 0)
        {
            throw new BpfException("if_nametoindex", Marshal.GetLastPInvokeError(), interfaceName);
        }

        return Open((int)index, program.Fd, interfaceName);
    }

    /// <summary>Opens a socket on interface <paramref name="interfaceIndex"/> and attaches the socket-filter program <paramref name="programFd"/>.</summary>
    public static RawPacketSocket Open(int interfaceIndex, int programFd, string? interfaceName = null)
    {
        var context = interfaceName ?? $"ifindex {interfaceIndex}";
        // Protocol 0: the socket receives nothing until bind, so no frame is queued before the filter is attached.
        var fd = LibC.socket(LibC.AF_PACKET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new BpfException("socket(AF_PACKET, SOCK_RAW)", Marshal.GetLastPInvokeError(), context);
        }

        var socket = new RawPacketSocket { InterfaceIndex = interfaceIndex };
        socket.SetHandle(fd);
        try
        {
            if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_ATTACH_BPF, &programFd, sizeof(int)) < 0)
            {
                throw new BpfException("setsockopt(SO_ATTACH_BPF)", Marshal.GetLastPInvokeError(), context);
            }

            var address = new LibC.sockaddr_ll
            {
                sll_family = LibC.AF_PACKET,
                sll_protocol = BinaryPrimitives.ReverseEndianness(LibC.ETH_P_ALL),
                sll_ifindex = interfaceIndex,
            };
            if (LibC.bind(fd, &address, (uint)sizeof(LibC.sockaddr_ll)) < 0)
            {
                throw new BpfException("bind(AF_PACKET)", Marshal.GetLastPInvokeError(), context);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
