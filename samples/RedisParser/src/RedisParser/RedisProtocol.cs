using Kubebpf.Sdk.Protocols;

namespace RedisParser;

/// <summary>
/// Redis for the capture: claims connections on the configured ports, and (with <see cref="RedisOptions.Sniff"/>)
/// connections on any port whose client opens with a command array naming a known Redis command. Servers do not
/// greet, so a connection is recognised from the client's first bytes; on a Redis port, from either side's.
/// </summary>
internal sealed class RedisProtocol(RedisOptions options, RedisCounters counters) : IStreamProtocol
{
    public ProtocolDescriptor Descriptor => RedisProtocolDescriptor.Instance;

    public ProtocolMatch Match { get; } = new(options.ServerPorts, options.Sniff);

    public int MaxBufferedBytes => options.MaxBufferedBytes;

    /// <summary>Every RESP message starts with its type byte, so a large segment starting otherwise lies inside a bulk string.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> MessageStarts { get; } =
        [.. Enumerable.Range(0, 256).Where(b => RespReader.IsType((byte)b)).Select(b => new ReadOnlyMemory<byte>([(byte)b]))];

    public SniffResult Sniff(ReadOnlySpan<byte> data, in SniffContext context)
    {
        var command = SniffCommand(data);
        if (command != SniffResult.NotThisProtocol)
        {
            return command;
        }

        // On a Redis port the first bytes may be anything RESP (a connection older than the capture): claim it by
        // port and let the parser find its place.
        if (Match.HasPort(context.ReceiverPort) && data.Length > 0 && (data[0] == '*' || char.IsAsciiLetter((char)data[0])))
        {
            return SniffResult.SenderIsClient;
        }

        return Match.HasPort(context.SenderPort) && data.Length > 0 && RespReader.IsType(data[0])
            ? SniffResult.SenderIsServer
            : SniffResult.NotThisProtocol;
    }

    public IStreamParser CreateParser(IExchangeOutput output) => new RedisConnectionParser(output, counters, options.MaxPipelinedCommands);

    /// <summary>
    /// <c>*&lt;n&gt;\r\n$&lt;len&gt;\r\n&lt;name&gt;\r\n</c> with a known command name: strict enough for any port.
    /// <see cref="SniffResult.NeedMoreData"/> while the bytes so far are a prefix of that.
    /// </summary>
    internal static SniffResult SniffCommand(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return SniffResult.NeedMoreData;
        }

        if (data[0] != '*')
        {
            return SniffResult.NotThisProtocol;
        }

        var rest = data[1..];
        var count = ReadNumber(ref rest, maxDigits: 7, out var elements);
        if (count != SniffResult.SenderIsClient)
        {
            return count;
        }

        if (elements == 0)
        {
            return SniffResult.NotThisProtocol;
        }

        if (rest.IsEmpty)
        {
            return SniffResult.NeedMoreData;
        }

        if (rest[0] != '$')
        {
            return SniffResult.NotThisProtocol;
        }

        rest = rest[1..];
        var header = ReadNumber(ref rest, maxDigits: 2, out var length);
        if (header != SniffResult.SenderIsClient)
        {
            return header;
        }

        if (length is < 1 or > 24)
        {
            return SniffResult.NotThisProtocol;
        }

        var name = rest[..Math.Min(rest.Length, (int)length)];
        foreach (var b in name)
        {
            if (!char.IsAsciiLetter((char)b) && b != '_')
            {
                return SniffResult.NotThisProtocol;
            }
        }

        if (rest.Length < length + 2)
        {
            return SniffResult.NeedMoreData;
        }

        return rest[(int)length] == '\r' && rest[(int)length + 1] == '\n' && RedisCommands.Name(name) != RedisCommands.Other
            ? SniffResult.SenderIsClient
            : SniffResult.NotThisProtocol;
    }

    // Digits and CRLF, consumed from rest: SenderIsClient (read), NeedMoreData (rest ends inside), NotThisProtocol.
    private static SniffResult ReadNumber(ref ReadOnlySpan<byte> rest, int maxDigits, out long value)
    {
        value = 0;
        var digits = 0;
        while (digits < rest.Length && digits < maxDigits && char.IsAsciiDigit((char)rest[digits]))
        {
            value = (value * 10) + (rest[digits] - '0');
            digits++;
        }

        if (digits == rest.Length || (digits > 0 && rest[digits] == '\r' && digits + 1 == rest.Length))
        {
            return SniffResult.NeedMoreData;
        }

        if (digits == 0 || rest[digits] != '\r' || rest[digits + 1] != '\n')
        {
            return SniffResult.NotThisProtocol;
        }

        rest = rest[(digits + 2)..];
        return SniffResult.SenderIsClient;
    }
}
