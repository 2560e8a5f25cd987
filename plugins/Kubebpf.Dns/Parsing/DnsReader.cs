using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Kubebpf.Dns.Parsing;

/// <summary>
/// Reads DNS messages in place (RFC 1035): the header, the first question and the answer records, without allocating.
/// Every bound is checked against the message, so any bytes give a status, never an exception.
/// </summary>
internal static class DnsReader
{
    /// <summary>The longest name on the wire (RFC 1035 3.1), length octets included.</summary>
    public const int MaxNameBytes = 255;

    /// <summary>Characters a name can take once written: each byte escaped as <c>\DDD</c> at worst.</summary>
    public const int MaxNameChars = MaxNameBytes * 4;

    private static readonly SearchValues<byte> HostnameBytes =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"u8);

    /// <summary>Reads the header.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> message, out DnsHeader header)
    {
        if (message.Length < DnsHeader.Size)
        {
            header = default;
            return false;
        }

        header = new DnsHeader(
            BinaryPrimitives.ReadUInt16BigEndian(message),
            BinaryPrimitives.ReadUInt16BigEndian(message[2..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[6..]));
        return true;
    }

    /// <summary>Reads the header and the first question; its name goes to <paramref name="name"/> (at least <see cref="MaxNameChars"/> long).</summary>
    public static DnsParseStatus Read(ReadOnlySpan<byte> message, Span<char> name, out DnsHeader header, out DnsQuestion question)
    {
        question = default;
        if (!TryReadHeader(message, out header))
        {
            return DnsParseStatus.Truncated;
        }

        if (header.QuestionCount == 0)
        {
            return DnsParseStatus.NoQuestion;
        }

        var status = ReadName(message, DnsHeader.Size, name, out var written, out var end);
        if (status != DnsParseStatus.Ok)
        {
            return status;
        }

        if (end + 4 > message.Length)
        {
            return DnsParseStatus.Truncated;
        }

        question = new DnsQuestion(BinaryPrimitives.ReadUInt16BigEndian(message[end..]), written, end + 4);
        return DnsParseStatus.Ok;
    }

    /// <summary>
    /// Reads the name at <paramref name="offset"/>, following compression pointers, into <paramref name="destination"/>
    /// in presentation form (lower case, no trailing dot, <c>.</c> for the root, <c>\.</c>, <c>\\</c> and <c>\DDD</c>
    /// escapes); <paramref name="end"/> is where the name ends at its own place in the message.
    /// </summary>
    public static DnsParseStatus ReadName(ReadOnlySpan<byte> message, int offset, Span<char> destination, out int written, out int end)
    {
        written = 0;
        end = -1;
        var wireBytes = 1;
        // Each pointer must go strictly before the previous one's target: a loop cannot close, and the walk ends.
        var limit = offset;
        var at = offset;
        while (true)
        {
            if (at >= message.Length)
            {
                return DnsParseStatus.Truncated;
            }

            var length = message[at];
            switch (length & 0xC0)
            {
                case 0xC0:
                    if (at + 1 >= message.Length)
                    {
                        return DnsParseStatus.Truncated;
                    }

                    var target = ((length & 0x3F) << 8) | message[at + 1];
                    if (end < 0)
                    {
                        end = at + 2;
                    }

                    if (target >= limit)
                    {
                        return DnsParseStatus.BadPointer;
                    }

                    limit = target;
                    at = target;
                    continue;
                case 0x00:
                    break;
                default:
                    return DnsParseStatus.BadLabel;
            }

            if (length == 0)
            {
                if (end < 0)
                {
                    end = at + 1;
                }

                if (written == 0)
                {
                    destination[written++] = '.';
                }

                return DnsParseStatus.Ok;
            }

            wireBytes += length + 1;
            if (wireBytes > MaxNameBytes)
            {
                return DnsParseStatus.NameTooLong;
            }

            if (at + 1 + length > message.Length)
            {
                return DnsParseStatus.Truncated;
            }

            if (written > 0)
            {
                destination[written++] = '.';
            }

            var label = message.Slice(at + 1, length);
            if (!label.ContainsAnyExcept(HostnameBytes))
            {
                // The common case, a hostname label: lower-cased in one vectorised pass.
                Ascii.ToLower(label, destination[written..], out var copied);
                written += copied;
            }
            else
            {
                foreach (var b in label)
                {
                    written += WriteByte(b, destination[written..]);
                }
            }

            at += 1 + length;
        }
    }

    /// <summary>Skips the name at <paramref name="offset"/> in place (its labels, or up to its first pointer); -1 when it runs past the end.</summary>
    public static int SkipName(ReadOnlySpan<byte> message, int offset)
    {
        var at = offset;
        while (at < message.Length)
        {
            var length = message[at];
            if ((length & 0xC0) == 0xC0)
            {
                return at + 2 <= message.Length ? at + 2 : -1;
            }

            if ((length & 0xC0) != 0)
            {
                return -1;
            }

            if (length == 0)
            {
                return at + 1;
            }

            at += 1 + length;
        }

        return -1;
    }

    private static int WriteByte(byte b, Span<char> destination)
    {
        switch (b)
        {
            case (byte)'.' or (byte)'\\':
                destination[0] = '\\';
                destination[1] = (char)b;
                return 2;
            case > 0x20 and < 0x7F:
                destination[0] = (char)(b is >= (byte)'A' and <= (byte)'Z' ? b | 0x20 : b);
                return 1;
            default:
                destination[0] = '\\';
                destination[1] = (char)('0' + b / 100);
                destination[2] = (char)('0' + b / 10 % 10);
                destination[3] = (char)('0' + b % 10);
                return 4;
        }
    }
}

/// <summary>Walks the answer section after the first question (a single-question message, as resolvers send).</summary>
internal ref struct DnsAnswerReader
{
    private readonly ReadOnlySpan<byte> _message;
    private int _remaining;
    private int _at;

    public DnsAnswerReader(ReadOnlySpan<byte> message, in DnsHeader header, in DnsQuestion question)
    {
        _message = message;
        _remaining = header.QuestionCount == 1 ? header.AnswerCount : 0;
        _at = question.End;
    }

    /// <summary>The next answer record; false at the end, or when the record runs past the message (the rest is not read).</summary>
    public bool TryNext(out ushort type, out uint ttl, out ReadOnlySpan<byte> data)
    {
        type = 0;
        ttl = 0;
        data = default;
        if (_remaining == 0)
        {
            return false;
        }

        _remaining--;
        var fixedPart = DnsReader.SkipName(_message, _at);
        if (fixedPart < 0 || fixedPart + 10 > _message.Length)
        {
            _remaining = 0;
            return false;
        }

        type = BinaryPrimitives.ReadUInt16BigEndian(_message[fixedPart..]);
        ttl = BinaryPrimitives.ReadUInt32BigEndian(_message[(fixedPart + 4)..]);
        var length = BinaryPrimitives.ReadUInt16BigEndian(_message[(fixedPart + 8)..]);
        var start = fixedPart + 10;
        if (start + length > _message.Length)
        {
            _remaining = 0;
            return false;
        }

        data = _message.Slice(start, length);
        _at = start + length;
        return true;
    }
}
