using System.Buffers.Text;

namespace RedisParser;

/// <summary>How far <see cref="RespReader.Read"/> got.</summary>
internal enum RespStep
{
    /// <summary>A top-level value ended; the offset is just past it.</summary>
    Complete,

    /// <summary>The data ended inside a value; the offset is where the unconsumed rest (an incomplete line) starts.</summary>
    NeedMoreData,

    /// <summary>The bytes at the offset are not RESP: the stream lost its place.</summary>
    Invalid,
}

/// <summary>Classifies the first word of a value (a command name, an error prefix) into a shared string.</summary>
internal delegate string WordClassifier(ReadOnlySpan<byte> word);

/// <summary>
/// Walks one direction of a RESP stream value by value, across any split of the bytes, without buffering: header
/// lines are read whole (the caller keeps an incomplete one), bulk payloads are skipped as they stream, and nested
/// aggregates are tracked by their remaining element counts. Reads RESP2 and RESP3 (maps, sets, pushes, attributes,
/// doubles, booleans, big numbers, bulk errors, verbatim strings).
/// </summary>
internal sealed class RespReader
{
    /// <summary>Bytes enough to name a command or an error: a value needing its first word waits for at most this many.</summary>
    public const int WordLength = 64;

    private const int MaxHeaderLine = 64;
    private const int MaxDepth = 32;
    private const long MaxBulkLength = 1L << 32;

    private readonly bool _commands;
    private readonly WordClassifier _classify;
    // Per open aggregate, innermost last; grown on demand, since most values nest one or two deep and every
    // connection has two readers.
    private long[] _remaining = new long[2];
    private bool[] _isAttribute = new bool[2];
    private int _depth;
    private long _bulkRemaining;
    private bool _bulkCrlfPending;
    private bool _skippingLine;
    private bool _wantWord;

    /// <param name="commands">Read a client's commands: arrays of bulk strings, or inline lines; anything else is invalid.</param>
    /// <param name="classify">Names the first word of commands (client) or of error replies (server).</param>
    public RespReader(bool commands, WordClassifier classify)
    {
        _commands = commands;
        _classify = classify;
    }

    /// <summary>Whether a value has started and not ended.</summary>
    public bool InValue { get; private set; }

    /// <summary>The current (or last) top-level value's type byte; 0 for an inline command.</summary>
    public byte Type { get; private set; }

    /// <summary>Whether that value is RESP2's null (<c>$-1</c> or <c>*-1</c>) or RESP3's <c>_</c>.</summary>
    public bool IsNull { get; private set; }

    /// <summary>Its classified first word (command name, error class); null when it has none (an empty command, a non-error reply).</summary>
    public string? Word { get; private set; }

    /// <summary>Its bytes so far.</summary>
    public long Size { get; private set; }

    /// <summary>Forgets the value in progress (after a desync).</summary>
    public void Reset()
    {
        _depth = 0;
        _bulkRemaining = 0;
        _bulkCrlfPending = false;
        _skippingLine = false;
        _wantWord = false;
        InValue = false;
    }

    /// <summary>
    /// <paramref name="bytes"/> of the stream were lost. Returns true when they fell inside a bulk payload being
    /// skipped, so that the reader keeps its place; false when it lost it (then call <see cref="Reset"/>).
    /// </summary>
    public bool TrySkip(long bytes)
    {
        if (_bulkRemaining < bytes)
        {
            return false;
        }

        _bulkRemaining -= bytes;
        Size += bytes;
        return true;
    }

    /// <summary>Reads from <paramref name="offset"/> until one top-level value ends, the data ends, or the bytes are not RESP.</summary>
    public RespStep Read(ReadOnlySpan<byte> data, ref int offset)
    {
        while (true)
        {
            if (_bulkRemaining > 0)
            {
                var take = (int)Math.Min(_bulkRemaining, data.Length - offset);
                Consume(ref offset, take);
                _bulkRemaining -= take;
                if (_bulkRemaining > 0)
                {
                    return RespStep.NeedMoreData;
                }
            }

            if (_bulkCrlfPending)
            {
                if (data.Length - offset < 2)
                {
                    return RespStep.NeedMoreData;
                }

                if (data[offset] != '\r' || data[offset + 1] != '\n')
                {
                    return RespStep.Invalid;
                }

                Consume(ref offset, 2);
                _bulkCrlfPending = false;
                if (EndValue(wasAttribute: false))
                {
                    return RespStep.Complete;
                }
            }
            else if (_skippingLine)
            {
                var lf = data[offset..].IndexOf((byte)'\n');
                if (lf < 0)
                {
                    Consume(ref offset, data.Length - offset);
                    return RespStep.NeedMoreData;
                }

                Consume(ref offset, lf + 1);
                _skippingLine = false;
                if (EndValue(wasAttribute: false))
                {
                    return RespStep.Complete;
                }
            }
            else if (offset == data.Length)
            {
                return RespStep.NeedMoreData;
            }
            else
            {
                var starting = !InValue;
                var step = ReadHeader(data[offset..], out var consumed);
                if (starting && consumed == 0 && step == RespStep.NeedMoreData)
                {
                    InValue = false; // nothing of it consumed: it starts with the kept bytes next time
                }

                Consume(ref offset, consumed);
                if (step is { } done)
                {
                    return done;
                }
            }
        }
    }

    /// <summary>Whether a segment starting with <paramref name="data"/> could start a command: <c>*</c> and a digit.</summary>
    public static bool LooksLikeCommandStart(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == '*' && char.IsAsciiDigit((char)data[1]);

    /// <summary>Whether <paramref name="type"/> starts a RESP2 or RESP3 value.</summary>
    public static bool IsType(byte type) => type is (byte)'+' or (byte)'-' or (byte)':' or (byte)'$' or (byte)'*' or (byte)'_'
        or (byte)'#' or (byte)',' or (byte)'(' or (byte)'!' or (byte)'=' or (byte)'%' or (byte)'~' or (byte)'>' or (byte)'|';

    // One header (a line, or a bulk header with the payload when its first word is wanted). Returns null to go on
    // reading, or the step to return; consumed is what the caller skips either way.
    private RespStep? ReadHeader(ReadOnlySpan<byte> rest, out int consumed)
    {
        consumed = 0;
        var type = rest[0];
        var topLevel = _depth == 0;
        if (_commands && !(topLevel ? type == '*' || (!InValue && IsInlineStart(type)) : type == '$'))
        {
            return RespStep.Invalid; // a server reads commands as arrays of bulk strings, or inline lines
        }

        if (!InValue)
        {
            InValue = true;
            Size = 0;
            Word = null;
            IsNull = false;
        }

        if (topLevel && type != '|')
        {
            Type = IsType(type) ? type : (byte)0;
        }

        if (!IsType(type))
        {
            return _commands ? ReadLine(rest, 0, ref consumed, wordAt: 0, allowBareLf: true) : RespStep.Invalid;
        }

        switch (type)
        {
            case (byte)'+':
            case (byte)'(':
                return ReadLine(rest, 1, ref consumed, wordAt: -1, allowBareLf: false);
            case (byte)'-':
                return ReadLine(rest, 1, ref consumed, wordAt: topLevel ? 1 : -1, allowBareLf: false);
        }

        var lf = rest[..Math.Min(rest.Length, MaxHeaderLine)].IndexOf((byte)'\n');
        if (lf < 0)
        {
            return rest.Length >= MaxHeaderLine ? RespStep.Invalid : RespStep.NeedMoreData;
        }

        if (lf < 2 || rest[lf - 1] != '\r')
        {
            return RespStep.Invalid;
        }

        var header = lf + 1;
        var content = rest[1..(lf - 1)];
        switch (type)
        {
            case (byte)'_':
                if (!content.IsEmpty)
                {
                    return RespStep.Invalid;
                }

                IsNull |= topLevel;
                consumed = header;
                return EndValue(wasAttribute: false) ? RespStep.Complete : null;
            case (byte)':':
            case (byte)'#':
            case (byte)',':
                if (type == ':' ? !IsInteger(content) : content.IsEmpty)
                {
                    return RespStep.Invalid;
                }

                consumed = header;
                return EndValue(wasAttribute: false) ? RespStep.Complete : null;
            case (byte)'$':
            case (byte)'!':
            case (byte)'=':
                return ReadBulkHeader(rest, content, header, wantWord: _wantWord || (topLevel && type == '!'), ref consumed);
            default:
                return ReadAggregateHeader(type, content, header, ref consumed);
        }
    }

    // A line-valued scalar: +simple, -error, (big number, or an inline command. A line longer than WordLength is
    // skipped as it streams once its first word is known.
    private RespStep? ReadLine(ReadOnlySpan<byte> rest, int start, ref int consumed, int wordAt, bool allowBareLf)
    {
        var lf = rest.IndexOf((byte)'\n');
        if (lf < 0)
        {
            if (rest.Length < WordLength)
            {
                return RespStep.NeedMoreData;
            }

            if (wordAt >= 0)
            {
                Word = _classify(rest[wordAt..]);
            }

            consumed = rest.Length;
            _skippingLine = true;
            return RespStep.NeedMoreData;
        }

        var end = lf > 0 && rest[lf - 1] == '\r' ? lf - 1 : allowBareLf ? lf : -1;
        if (end < start)
        {
            return RespStep.Invalid;
        }

        if (wordAt >= 0 && end > wordAt)
        {
            Word = _classify(rest[wordAt..end]); // an empty inline line is no command: Redis ignores it
        }

        consumed = lf + 1;
        return EndValue(wasAttribute: false) ? RespStep.Complete : null;
    }

    private RespStep? ReadBulkHeader(ReadOnlySpan<byte> rest, ReadOnlySpan<byte> content, int header, bool wantWord, ref int consumed)
    {
        if (!Utf8Parser.TryParse(content, out long length, out var used) || used != content.Length || length is < -1 or > MaxBulkLength
            || (length == -1 && rest[0] != '$'))
        {
            return RespStep.Invalid;
        }

        if (length == -1)
        {
            _wantWord = false;
            IsNull |= _depth == 0;
            consumed = header;
            return EndValue(wasAttribute: false) ? RespStep.Complete : null;
        }

        if (wantWord)
        {
            if (length <= WordLength)
            {
                // Short: wait for the whole payload (the caller keeps the header until then) and name it.
                if (rest.Length < header + length + 2)
                {
                    return RespStep.NeedMoreData;
                }

                Word = _classify(rest.Slice(header, (int)length));
            }
            else
            {
                Word = _classify([]); // longer than any name: not a known command, not a known error class
            }
        }

        _wantWord = false;
        consumed = header;
        _bulkRemaining = length;
        _bulkCrlfPending = true;
        return null;
    }

    private RespStep? ReadAggregateHeader(byte type, ReadOnlySpan<byte> content, int header, ref int consumed)
    {
        if (!Utf8Parser.TryParse(content, out long count, out var used) || used != content.Length || count < -1
            || count > int.MaxValue || (count == -1 && type != '*'))
        {
            return RespStep.Invalid;
        }

        consumed = header;
        var isAttribute = type == '|';
        var elements = type is (byte)'%' or (byte)'|' ? count * 2 : count;
        if (elements <= 0)
        {
            IsNull |= _depth == 0 && count == -1;
            return EndValue(isAttribute) ? RespStep.Complete : null;
        }

        if (_depth == MaxDepth)
        {
            return RespStep.Invalid;
        }

        if (_depth == _remaining.Length)
        {
            Array.Resize(ref _remaining, Math.Min(2 * _depth, MaxDepth));
            Array.Resize(ref _isAttribute, _remaining.Length);
        }

        // A command's name is its array's first bulk string.
        _wantWord = _commands && _depth == 0;
        _remaining[_depth] = elements;
        _isAttribute[_depth] = isAttribute;
        _depth++;
        return null;
    }

    // A value ended: count it in its parent aggregate, closing every aggregate it completes. True when a top-level
    // value ended (an attribute is not one: the value it annotates follows).
    private bool EndValue(bool wasAttribute)
    {
        while (_depth > 0)
        {
            if (!wasAttribute && --_remaining[_depth - 1] > 0)
            {
                return false;
            }

            if (wasAttribute && _remaining[_depth - 1] > 0)
            {
                return false;
            }

            _depth--;
            wasAttribute = _isAttribute[_depth];
        }

        if (wasAttribute)
        {
            return false;
        }

        InValue = false;
        return true;
    }

    private void Consume(ref int offset, int count)
    {
        offset += count;
        Size += count;
    }

    // An inline command (telnet style) starts with a letter; an empty line is one too, which Redis ignores.
    private static bool IsInlineStart(byte first) => char.IsAsciiLetter((char)first) || first is (byte)'\r' or (byte)'\n';

    private static bool IsInteger(ReadOnlySpan<byte> content) =>
        Utf8Parser.TryParse(content, out long _, out var used) && used == content.Length;
}
