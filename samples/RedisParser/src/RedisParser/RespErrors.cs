namespace RedisParser;

/// <summary>
/// The status of an error reply: its first word when it is one of the error prefixes Redis and its modules use
/// (<c>-WRONGTYPE Operation against a key...</c> gives <c>WRONGTYPE</c>), else <c>error</c>. The rest of the message
/// can quote keys and values, so it is never recorded.
/// </summary>
internal static class RespErrors
{
    /// <summary>The status of an error whose prefix is not a known one.</summary>
    public const string Generic = "error";

    private static readonly string[] Known =
    [
        "ERR", "WRONGTYPE", "NOAUTH", "NOPERM", "WRONGPASS", "MOVED", "ASK", "TRYAGAIN", "CROSSSLOT", "CLUSTERDOWN", "BUSY",
        "BUSYKEY", "BUSYGROUP", "NOGROUP", "NOSCRIPT", "LOADING", "READONLY", "EXECABORT", "OOM", "MASTERDOWN", "MISCONF",
        "NOREPLICAS", "NOPROTO", "UNKILLABLE", "NOTBUSY", "UNBLOCKED",
    ];

    private static readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> ByChars =
        Known.ToDictionary(n => n, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The status of an error message (the bytes after <c>-</c>, or a bulk error's payload).</summary>
    public static string Class(ReadOnlySpan<byte> message)
    {
        var space = message.IndexOf((byte)' ');
        var prefix = space < 0 ? message : message[..space];
        if (prefix.IsEmpty || prefix.Length > 16)
        {
            return Generic;
        }

        Span<char> chars = stackalloc char[prefix.Length];
        for (var i = 0; i < prefix.Length; i++)
        {
            chars[i] = (char)prefix[i];
        }

        return ByChars.TryGetValue(chars, out var known) ? known : Generic;
    }
}
