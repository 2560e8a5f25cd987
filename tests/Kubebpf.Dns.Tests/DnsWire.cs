using System.Buffers.Binary;
using System.Net;

namespace Kubebpf.Dns.Tests;

/// <summary>Builds DNS messages as a resolver and a client put them on the wire (answers name their owner with a pointer to the question).</summary>
internal static class DnsWire
{
    public const ushort A = 1;
    public const ushort Aaaa = 28;
    public const ushort Srv = 33;

    public static byte[] Query(ushort id, string name, ushort type = A) => Message(id, 0x0100, name, type, []);

    public static byte[] Answer(ushort id, string name, ushort type, int rcode, params (ushort Type, uint Ttl, byte[] Data)[] answers) =>
        Message(id, (ushort)(0x8180 | rcode), name, type, answers);

    public static (ushort, uint, byte[]) Address(string address, uint ttl = 300) => IPAddress.Parse(address) is var ip
        ? ((ushort)(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? A : Aaaa), ttl, ip.GetAddressBytes())
        : default;

    /// <summary>The message behind its two-byte TCP length.</summary>
    public static byte[] Tcp(byte[] message) => [(byte)(message.Length >> 8), (byte)message.Length, .. message];

    public static byte[] Name(string name)
    {
        var bytes = new List<byte>();
        foreach (var label in name.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return [.. bytes];
    }

    public static byte[] Header(ushort id, ushort flags, ushort questions, ushort answers)
    {
        var header = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), questions);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), answers);
        return header;
    }

    private static byte[] Message(ushort id, ushort flags, string name, ushort type, (ushort Type, uint Ttl, byte[] Data)[] answers)
    {
        var bytes = new List<byte>(Header(id, flags, 1, (ushort)answers.Length));
        bytes.AddRange(Name(name));
        bytes.AddRange([(byte)(type >> 8), (byte)type, 0, 1]);
        foreach (var (answerType, ttl, data) in answers)
        {
            bytes.AddRange([0xC0, 12, (byte)(answerType >> 8), (byte)answerType, 0, 1]);
            bytes.AddRange([(byte)(ttl >> 24), (byte)(ttl >> 16), (byte)(ttl >> 8), (byte)ttl, (byte)(data.Length >> 8), (byte)data.Length]);
            bytes.AddRange(data);
        }

        return [.. bytes];
    }
}
