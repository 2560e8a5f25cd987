using System.Runtime.CompilerServices;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Dns.Parsing;

/// <summary>
/// Decides whether a flow is DNS and who sent the first message: on a resolver port, the QR bit (or, for a message too
/// short to read, the port); on any other port, only a message that reads whole as a standard query or answer with one question.
/// </summary>
internal static class DnsSniffer
{
    [SkipLocalsInit] // the name buffer is written before it is read
    public static SniffResult Sniff(ReadOnlySpan<byte> message, in SniffContext context, ProtocolMatch match)
    {
        if (match.HasPort(context.ReceiverPort) || match.HasPort(context.SenderPort))
        {
            if (DnsReader.TryReadHeader(message, out var header))
            {
                return header.IsResponse ? SniffResult.SenderIsServer : SniffResult.SenderIsClient;
            }

            return match.HasPort(context.ReceiverPort) ? SniffResult.SenderIsClient : SniffResult.SenderIsServer;
        }

        if (!match.Sniff)
        {
            return SniffResult.NotThisProtocol;
        }

        Span<char> name = stackalloc char[DnsReader.MaxNameChars];
        var status = DnsReader.Read(message, name, out var read, out _);
        if (status != DnsParseStatus.Ok || read.QuestionCount != 1 || read.Opcode != 0 || (read.Flags & 0x0040) != 0)
        {
            return SniffResult.NotThisProtocol;
        }

        return read.IsResponse ? SniffResult.SenderIsServer : SniffResult.SenderIsClient;
    }
}
