namespace Kubebpf.Dns.Parsing;

/// <summary>The first question of a message: its type, and where the records after it start.</summary>
/// <param name="Type">QTYPE.</param>
/// <param name="NameLength">Characters of the name written to the caller's buffer.</param>
/// <param name="End">Offset of the first byte after the question section's first entry.</param>
internal readonly record struct DnsQuestion(ushort Type, int NameLength, int End);
