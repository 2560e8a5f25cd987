namespace Kubebpf.Dns.Parsing;

/// <summary>The fixed 12-byte header of a DNS message (RFC 1035 4.1.1).</summary>
internal readonly record struct DnsHeader(ushort Id, ushort Flags, ushort QuestionCount, ushort AnswerCount)
{
    public const int Size = 12;

    /// <summary>QR: an answer rather than a query.</summary>
    public bool IsResponse => (Flags & 0x8000) != 0;

    /// <summary>OPCODE: 0 for a standard query.</summary>
    public int Opcode => (Flags >> 11) & 0xF;

    /// <summary>TC: the answer was cut to fit the transport (the client retries over TCP).</summary>
    public bool Truncated => (Flags & 0x0200) != 0;

    /// <summary>RCODE (the low 4 bits; extended rcodes live in the OPT record and are not read).</summary>
    public int Rcode => Flags & 0xF;
}
