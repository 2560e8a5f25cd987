namespace RedisParser;

/// <summary>
/// Redis command names as operation tags: a command the server knows keeps its upper-case name (one shared string
/// each), anything else is <c>OTHER</c>, so a client sending made-up names cannot grow the number of series.
/// </summary>
internal static class RedisCommands
{
    /// <summary>The operation of every name that is not a known command.</summary>
    public const string Other = "OTHER";

    private const int LongestName = 24;

    private static readonly string[] Known =
    [
        // strings
        "APPEND", "DECR", "DECRBY", "GET", "GETDEL", "GETEX", "GETRANGE", "GETSET", "INCR", "INCRBY", "INCRBYFLOAT", "LCS",
        "MGET", "MSET", "MSETNX", "PSETEX", "SET", "SETEX", "SETNX", "SETRANGE", "STRLEN", "SUBSTR",
        // keys
        "COPY", "DEL", "DUMP", "EXISTS", "EXPIRE", "EXPIREAT", "EXPIRETIME", "KEYS", "MIGRATE", "MOVE", "OBJECT", "PERSIST",
        "PEXPIRE", "PEXPIREAT", "PEXPIRETIME", "PTTL", "RANDOMKEY", "RENAME", "RENAMENX", "RESTORE", "SCAN", "SORT", "SORT_RO",
        "TOUCH", "TTL", "TYPE", "UNLINK", "WAIT", "WAITAOF",
        // hashes
        "HDEL", "HEXISTS", "HGET", "HGETALL", "HINCRBY", "HINCRBYFLOAT", "HKEYS", "HLEN", "HMGET", "HMSET", "HRANDFIELD",
        "HSCAN", "HSET", "HSETNX", "HSTRLEN", "HVALS",
        // lists
        "BLMOVE", "BLMPOP", "BLPOP", "BRPOP", "BRPOPLPUSH", "LINDEX", "LINSERT", "LLEN", "LMOVE", "LMPOP", "LPOP", "LPOS",
        "LPUSH", "LPUSHX", "LRANGE", "LREM", "LSET", "LTRIM", "RPOP", "RPOPLPUSH", "RPUSH", "RPUSHX",
        // sets
        "SADD", "SCARD", "SDIFF", "SDIFFSTORE", "SINTER", "SINTERCARD", "SINTERSTORE", "SISMEMBER", "SMEMBERS", "SMISMEMBER",
        "SMOVE", "SPOP", "SRANDMEMBER", "SREM", "SSCAN", "SUNION", "SUNIONSTORE",
        // sorted sets
        "BZMPOP", "BZPOPMAX", "BZPOPMIN", "ZADD", "ZCARD", "ZCOUNT", "ZDIFF", "ZDIFFSTORE", "ZINCRBY", "ZINTER", "ZINTERCARD",
        "ZINTERSTORE", "ZLEXCOUNT", "ZMPOP", "ZMSCORE", "ZPOPMAX", "ZPOPMIN", "ZRANDMEMBER", "ZRANGE", "ZRANGEBYLEX",
        "ZRANGEBYSCORE", "ZRANGESTORE", "ZRANK", "ZREM", "ZREMRANGEBYLEX", "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZREVRANGE",
        "ZREVRANGEBYLEX", "ZREVRANGEBYSCORE", "ZREVRANK", "ZSCAN", "ZSCORE", "ZUNION", "ZUNIONSTORE",
        // streams
        "XACK", "XADD", "XAUTOCLAIM", "XCLAIM", "XDEL", "XGROUP", "XINFO", "XLEN", "XPENDING", "XRANGE", "XREAD", "XREADGROUP",
        "XREVRANGE", "XSETID", "XTRIM",
        // bitmaps, HyperLogLog, geo
        "BITCOUNT", "BITFIELD", "BITFIELD_RO", "BITOP", "BITPOS", "GETBIT", "SETBIT", "PFADD", "PFCOUNT", "PFMERGE",
        "GEOADD", "GEODIST", "GEOHASH", "GEOPOS", "GEORADIUS", "GEORADIUSBYMEMBER", "GEOSEARCH", "GEOSEARCHSTORE",
        // pub/sub, transactions, scripting
        "PSUBSCRIBE", "PUBLISH", "PUBSUB", "PUNSUBSCRIBE", "SPUBLISH", "SSUBSCRIBE", "SUBSCRIBE", "SUNSUBSCRIBE", "UNSUBSCRIBE",
        "DISCARD", "EXEC", "MULTI", "UNWATCH", "WATCH",
        "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "FUNCTION", "SCRIPT",
        // connection, server, cluster
        "AUTH", "CLIENT", "ECHO", "HELLO", "PING", "QUIT", "RESET", "SELECT",
        "ACL", "BGREWRITEAOF", "BGSAVE", "COMMAND", "CONFIG", "DBSIZE", "DEBUG", "FAILOVER", "FLUSHALL", "FLUSHDB", "INFO",
        "LASTSAVE", "LATENCY", "LOLWUT", "MEMORY", "MODULE", "MONITOR", "PSYNC", "REPLCONF", "REPLICAOF", "SAVE", "SHUTDOWN",
        "SLAVEOF", "SLOWLOG", "SWAPDB", "SYNC", "TIME",
        "ASKING", "CLUSTER", "READONLY", "READWRITE",
    ];

    private static readonly Dictionary<string, string> ByName = Known.ToDictionary(n => n, StringComparer.Ordinal);
    private static readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> ByChars = ByName.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The operation of a command name as sent (any case, ASCII bytes); <see cref="Other"/> when unknown.</summary>
    public static string Name(ReadOnlySpan<byte> name)
    {
        var space = name.IndexOf((byte)' ');
        if (space >= 0)
        {
            name = name[..space]; // an inline command: its first word
        }

        if (name.IsEmpty || name.Length > LongestName)
        {
            return Other;
        }

        Span<char> upper = stackalloc char[name.Length];
        for (var i = 0; i < name.Length; i++)
        {
            upper[i] = char.ToUpperInvariant((char)name[i]);
        }

        return ByChars.TryGetValue(upper, out var known) ? known : Other;
    }

    /// <summary>For <see cref="Kubebpf.Sdk.Protocols.ProtocolDescriptor.CanonicalOperation"/>: the shared string of a known command, else <see cref="Other"/>.</summary>
    public static string Canonical(string operation) => ByName.TryGetValue(operation, out var known) ? known : Other;

    /// <summary>Commands after which the server sends messages, not replies: pairing stops on that connection.</summary>
    public static bool StartsMessageStream(string command) => command is "SUBSCRIBE" or "PSUBSCRIBE" or "SSUBSCRIBE" or "MONITOR";
}
