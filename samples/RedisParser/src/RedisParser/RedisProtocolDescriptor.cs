using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Protocols;

namespace RedisParser;

/// <summary>
/// How Redis exchanges are named: <c>redis_requests</c> (call log) and <c>redis_red</c> (R.E.D.), the operation under
/// the tag <c>command</c>. The resource is always empty: keys are unbounded (one series per key) and often personal
/// data (<c>session:alice@example.com</c>), so they are never recorded; R.E.D. per command is what stays bounded.
/// </summary>
public static class RedisProtocolDescriptor
{
    /// <summary>The one descriptor every Redis exchange carries (consumers compare it by reference).</summary>
    public static ProtocolDescriptor Instance { get; } = new("redis")
    {
        OperationTag = "command",
        CanonicalOperation = RedisCommands.Canonical,
        DetailFields =
        [
            new("reply_type", FieldKind.String, "", "RESP type of the reply: simple_string, error, integer, bulk_string, array, null, map, set, ..."),
        ],
    };
}
