namespace Kubebpf.Dns.Parsing;

/// <summary>Why a message could not be read; every value but <see cref="Ok"/> is counted as a malformed message.</summary>
internal enum DnsParseStatus : byte
{
    /// <summary>Header and question read.</summary>
    Ok,

    /// <summary>Shorter than the 12-byte header, or a record runs past the end.</summary>
    Truncated,

    /// <summary>No question (QDCOUNT 0): nothing to name the exchange by.</summary>
    NoQuestion,

    /// <summary>A label longer than 63 bytes, or a reserved label type.</summary>
    BadLabel,

    /// <summary>A name longer than 255 bytes.</summary>
    NameTooLong,

    /// <summary>A compression pointer that does not point strictly backwards (a loop, or a forward reference).</summary>
    BadPointer,
}
