using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Protocols;

namespace RedisParser;

/// <summary>The call-log field a Redis exchange adds: the reply's RESP type. One shared instance per type.</summary>
internal sealed class RedisReplyDetails : IExchangeDetails
{
    private static readonly Dictionary<byte, RedisReplyDetails> ByType = new()
    {
        [(byte)'+'] = new("simple_string"),
        [(byte)'-'] = new("error"),
        [(byte)':'] = new("integer"),
        [(byte)'$'] = new("bulk_string"),
        [(byte)'*'] = new("array"),
        [(byte)'_'] = new("null"),
        [(byte)'#'] = new("boolean"),
        [(byte)','] = new("double"),
        [(byte)'('] = new("big_number"),
        [(byte)'!'] = new("bulk_error"),
        [(byte)'='] = new("verbatim_string"),
        [(byte)'%'] = new("map"),
        [(byte)'~'] = new("set"),
    };

    private static readonly RedisReplyDetails Null = ByType[(byte)'_'];

    private readonly Field _field;

    private RedisReplyDetails(string replyType)
    {
        ReplyType = replyType;
        _field = new Field("reply_type", FieldValue.String(replyType));
    }

    /// <summary>The type's name.</summary>
    public string ReplyType { get; }

    /// <inheritdoc />
    public int FieldCount => 1;

    /// <summary>The details of a reply starting with <paramref name="type"/>; RESP2's <c>$-1</c> and <c>*-1</c> are nulls.</summary>
    public static RedisReplyDetails For(byte type, bool isNull) => isNull ? Null : ByType.GetValueOrDefault(type, Null);

    /// <inheritdoc />
    public void WriteFields(Span<Field> destination) => destination[0] = _field;
}
