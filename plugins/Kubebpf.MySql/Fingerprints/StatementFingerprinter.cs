using System.Buffers;
using System.Collections.Frozen;
using System.Text;

namespace Kubebpf.MySql.Fingerprints;

/// <summary>A statement's fingerprint (literals replaced, spacing and case normalised, bounded) and its type.</summary>
/// <param name="Text">The fingerprint, a shared string while the interner has room.</param>
/// <param name="Type">One of the <see cref="StatementType"/> values.</param>
internal readonly record struct Fingerprint(string Text, string Type);

/// <summary>
/// Turns SQL text into a fingerprint that statements differing only in their literals share: strings, numbers (with
/// their sign), hex and bit values become <c>?</c>; a parenthesised list of literals becomes <c>(?)</c> whatever its
/// length (<c>IN (1, 2, 3)</c>), and a repeated group right after an identical one is dropped (<c>VALUES (1, 'a'), (2,
/// 'b')</c> becomes <c>VALUES (?)</c>); comments go, keywords are upper-cased, spacing is canonical; the result is cut at
/// a token boundary with <c>…</c>. A lexer, not a parser: it never fails, whatever the bytes. No literal survives: an
/// unterminated string runs to the end of the text. Not thread-safe (one buffer, used on the capture thread).
/// </summary>
internal sealed class StatementFingerprinter
{
    /// <summary>Marks a fingerprint cut at the length bound or taken from a statement that was not seen whole.</summary>
    public const string Cut = "…";

    private const int MaxDepth = 32;

    /// <summary>Words up to this long are checked against the keywords (the longest is shorter).</summary>
    private const int MaxKeywordLength = 64;

    /// <summary>Words upper-cased in fingerprints; true for those written without a space before their <c>(</c> (functions).</summary>
    private static readonly FrozenDictionary<string, bool> Keywords = BuildKeywords();
    private static readonly FrozenDictionary<string, bool>.AlternateLookup<ReadOnlySpan<char>> KeywordLookup =
        Keywords.GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly SearchValues<byte> Blanks = SearchValues.Create([.. Enumerable.Range(0, 33).Select(b => (byte)b)]);
    private static readonly SearchValues<byte> Digits = SearchValues.Create("0123456789"u8);
    private static readonly SearchValues<byte> HexDigits = SearchValues.Create("0123456789abcdefABCDEF"u8);
    private static readonly SearchValues<byte> WordBytes = SearchValues.Create(
        [.. "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$@"u8, .. Enumerable.Range(0x80, 0x80).Select(b => (byte)b)]);

    private readonly int _maxLength;
    private readonly char[] _buffer;
    private readonly Interner _interner;
    private readonly int[] _groupStarts = new int[MaxDepth];
    private int _length;
    private int _depth;
    private int _untrackedDepth;
    private Token _previous;
    private int _lastTokenStart;
    private string? _type;
    private bool _full;

    public StatementFingerprinter(int maxLength, int maxInterned)
    {
        _maxLength = maxLength;
        _buffer = new char[maxLength + Cut.Length + 1];
        _interner = new Interner(maxInterned);
    }

    private enum Token : byte
    {
        None,
        Word,
        Keyword,
        Function,
        Literal,
        Operator,
        Open,
        Close,
        Comma,
        Dot,
        Semicolon,
    }

    /// <summary>The fingerprint of <paramref name="sql"/> (UTF-8); <paramref name="partial"/>: the text is only a prefix of the statement.</summary>
    public Fingerprint Compute(ReadOnlySpan<byte> sql, bool partial)
    {
        _length = 0;
        _depth = 0;
        _untrackedDepth = 0;
        _previous = Token.None;
        _lastTokenStart = 0;
        _type = null;
        _full = false;
        Lex(sql);
        while (!partial && !_full && _length > 0 && _buffer[_length - 1] == ';')
        {
            _length--; // "SELECT 1;" is "SELECT 1"
        }

        if (partial && !_full)
        {
            _length = _lastTokenStart; // the last token may be cut in the middle
        }

        if (partial || _full)
        {
            TrimEnd();
            if (_length > 0)
            {
                _buffer[_length++] = ' ';
            }

            Cut.CopyTo(_buffer.AsSpan(_length));
            _length += Cut.Length;
        }

        return new Fingerprint(_interner.Intern(_buffer.AsSpan(0, _length)), _type ?? StatementType.Other);
    }

    private void Lex(ReadOnlySpan<byte> sql)
    {
        var executableComments = 0;
        var i = 0;
        while (i < sql.Length && !_full)
        {
            var c = sql[i];
            switch (c)
            {
                case <= (byte)' ':
                    var text = sql[i..].IndexOfAnyExcept(Blanks);
                    i = text < 0 ? sql.Length : i + text;
                    break;
                case (byte)'#':
                    i = LineEnd(sql, i);
                    break;
                case (byte)'-' when At(sql, i + 1) == '-' && At(sql, i + 2) is 0 or <= (byte)' ':
                    i = LineEnd(sql, i);
                    break;
                case (byte)'/' when At(sql, i + 1) == '*':
                    if (At(sql, i + 2) == '!' || (At(sql, i + 2) == 'M' && At(sql, i + 3) == '!'))
                    {
                        // Executable comment (/*!40101 SET ... */, MariaDB's /*M! */): the server runs its content.
                        i += At(sql, i + 2) == '!' ? 3 : 4;
                        while (i < sql.Length && char.IsAsciiDigit((char)sql[i]))
                        {
                            i++;
                        }

                        executableComments++;
                        break;
                    }

                    var end = sql[(i + 2)..].IndexOf("*/"u8);
                    i = end < 0 ? sql.Length : i + 2 + end + 2;
                    break;
                case (byte)'*' when executableComments > 0 && At(sql, i + 1) == '/':
                    executableComments--;
                    i += 2;
                    break;
                case (byte)'\'' or (byte)'"':
                    i = SkipString(sql, i);
                    EmitLiteral(quoted: true);
                    break;
                case (byte)'`':
                    i = Identifier(sql, i);
                    break;
                case (byte)'?':
                    i++;
                    EmitLiteral(quoted: false);
                    break;
                case (byte)'(':
                    i++;
                    Open();
                    break;
                case (byte)')':
                    i++;
                    Close();
                    break;
                case (byte)',':
                    i++;
                    Emit(",", Token.Comma);
                    break;
                case (byte)';':
                    i++;
                    Emit(";", Token.Semicolon);
                    break;
                case (byte)'.' when IsDigit(At(sql, i + 1)) && _previous is not (Token.Word or Token.Close):
                    i = Number(sql, i);
                    break;
                case (byte)'.':
                    i++;
                    Emit(".", Token.Dot);
                    break;
                case (byte)'-' or (byte)'+' when SignStartsNumber(sql, i):
                    i = Number(sql, i + 1);
                    break;
                case (byte)'x' or (byte)'X' or (byte)'b' or (byte)'B' or (byte)'n' or (byte)'N' when At(sql, i + 1) == '\'':
                    i = SkipString(sql, i + 1); // X'0f', B'101', N'text'
                    EmitLiteral(quoted: true);
                    break;
                default:
                    if (IsDigit(c))
                    {
                        i = Number(sql, i);
                    }
                    else if (IsWordByte(c))
                    {
                        i = Word(sql, i);
                    }
                    else
                    {
                        i = Operator(sql, i);
                    }

                    break;
            }
        }
    }

    private static byte At(ReadOnlySpan<byte> sql, int index) => index < sql.Length ? sql[index] : (byte)0;

    private static bool IsDigit(byte c) => c is >= (byte)'0' and <= (byte)'9';

    private static bool IsWordByte(byte c) => WordBytes.Contains(c);

    /// <summary>Where the run of bytes that <paramref name="values"/> holds, from <paramref name="i"/>, ends.</summary>
    private static int SkipAll(ReadOnlySpan<byte> sql, int i, SearchValues<byte> values)
    {
        var end = sql[i..].IndexOfAnyExcept(values);
        return end < 0 ? sql.Length : i + end;
    }

    private static int LineEnd(ReadOnlySpan<byte> sql, int i)
    {
        var end = sql[i..].IndexOfAny((byte)'\n', (byte)'\r');
        return end < 0 ? sql.Length : i + end;
    }

    /// <summary>The end of the quoted string at <paramref name="i"/> (backslash escapes, doubled quotes); unterminated: the text's end.</summary>
    private static int SkipString(ReadOnlySpan<byte> sql, int i)
    {
        var quote = sql[i++];
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c == '\\')
            {
                i += 2;
            }
            else if (c == quote)
            {
                if (At(sql, i + 1) != quote)
                {
                    return i + 1;
                }

                i += 2;
            }
            else
            {
                i++;
            }
        }

        return sql.Length;
    }

    /// <summary>A sign is part of a number where no operand precedes it (<c>= -5</c>, <c>(-1</c>), not in <c>a - 5</c>.</summary>
    private bool SignStartsNumber(ReadOnlySpan<byte> sql, int i) =>
        _previous is Token.None or Token.Operator or Token.Open or Token.Comma or Token.Keyword or Token.Semicolon
        && (IsDigit(At(sql, i + 1)) || (At(sql, i + 1) == '.' && IsDigit(At(sql, i + 2))));

    /// <summary>A number (decimal, exponent, 0x hex, 0b bits) at <paramref name="i"/>; digits running into letters are a word.</summary>
    private int Number(ReadOnlySpan<byte> sql, int i)
    {
        var start = i;
        if (sql[i] == '0' && (At(sql, i + 1) | 0x20) is 'x' or 'b')
        {
            i = SkipAll(sql, i + 2, HexDigits);
        }
        else
        {
            i = SkipAll(sql, i, Digits);
            if (At(sql, i) == '.')
            {
                i = SkipAll(sql, i + 1, Digits);
            }

            if ((At(sql, i) | 0x20) == 'e' && (IsDigit(At(sql, i + 1)) || (At(sql, i + 1) is (byte)'+' or (byte)'-' && IsDigit(At(sql, i + 2)))))
            {
                i = SkipAll(sql, i + 2, Digits);
            }
        }

        if (i < sql.Length && IsWordByte(sql[i]) && sql[start] != '.')
        {
            return Word(sql, start); // 1abc is an identifier
        }

        EmitLiteral(quoted: false);
        return i;
    }

    private int Word(ReadOnlySpan<byte> sql, int i)
    {
        var start = i;
        i = SkipAll(sql, i, WordBytes);

        var word = sql[start..i];
        Span<char> upper = stackalloc char[MaxKeywordLength];
        if (word.Length <= upper.Length && Ascii.IsValid(word))
        {
            // Keywords are looked up upper-cased, ordinally: cheaper than a case-insensitive lookup.
            upper = upper[..word.Length];
            Ascii.ToUpper(word, upper, out _);
            _type ??= StatementType.Of(upper);
            if (KeywordLookup.TryGetValue(upper, out var isFunction))
            {
                Emit(upper, isFunction ? Token.Function : Token.Keyword);
                return i;
            }

            Ascii.ToUtf16(word, upper, out _);
            Emit(upper, Token.Word);
            return i;
        }

        _type ??= StatementType.Other;
        EmitUtf8(word, Token.Word);
        return i;
    }

    private int Identifier(ReadOnlySpan<byte> sql, int i)
    {
        var end = sql[(i + 1)..].IndexOf((byte)'`');
        var stop = end < 0 ? sql.Length : i + 1 + end + 1;
        _type ??= StatementType.Other;
        EmitUtf8(sql[i..stop], Token.Word);
        return stop;
    }

    private int Operator(ReadOnlySpan<byte> sql, int i)
    {
        var start = i++;
        if (sql[start] is (byte)'<' or (byte)'>' or (byte)'!' or (byte)'=' or (byte)'|' or (byte)'&' or (byte)':' or (byte)'-')
        {
            while (i < sql.Length && i - start < 3 && sql[i] is (byte)'=' or (byte)'<' or (byte)'>' or (byte)'|' or (byte)'&')
            {
                i++;
            }
        }

        Span<char> text = stackalloc char[3];
        Ascii.ToUtf16(sql[start..i], text, out var length); // operator bytes are ASCII
        Emit(text[..length], Token.Operator);
        return i;
    }

    private void EmitLiteral(bool quoted)
    {
        if (quoted && _previous == Token.Literal)
        {
            return; // 'a' 'b' is one string
        }

        Emit("?", Token.Literal);
    }

    private void Open()
    {
        Emit("(", Token.Open);
        if (_depth < MaxDepth && _untrackedDepth == 0)
        {
            _groupStarts[_depth++] = _length - 1;
        }
        else
        {
            _untrackedDepth++;
        }
    }

    /// <summary>Closes a group: a group of literals only becomes <c>(?)</c>, and one repeating the group just before it goes.</summary>
    private void Close()
    {
        Emit(")", Token.Close);
        if (_full)
        {
            return;
        }

        if (_untrackedDepth > 0)
        {
            _untrackedDepth--;
            return;
        }

        if (_depth == 0)
        {
            return;
        }

        var start = _groupStarts[--_depth];
        var inner = _buffer.AsSpan(start + 1, _length - start - 2);
        if (inner.Contains('?') && !inner.ContainsAnyExcept("?, ()"))
        {
            _length = start + 1;
            _buffer[_length++] = '?';
            _buffer[_length++] = ')';
        }

        var group = _buffer.AsSpan(start, _length - start);
        var before = start - 2 - group.Length;
        if (before >= 0 && _buffer[start - 2] == ',' && _buffer[start - 1] == ' '
            && _buffer.AsSpan(before, group.Length).SequenceEqual(group)
            && (before == 0 || _buffer[before - 1] is ' ' or '('))
        {
            _length = start - 2;
        }

        _lastTokenStart = Math.Min(_lastTokenStart, _length);
    }

    private void EmitUtf8(ReadOnlySpan<byte> utf8, Token kind)
    {
        Span<char> chars = stackalloc char[256];
        var decoded = Encoding.UTF8.GetChars(utf8[..Math.Min(utf8.Length, chars.Length)], chars);
        Emit(chars[..decoded], kind);
    }

    private void Emit(ReadOnlySpan<char> text, Token kind)
    {
        var space = NeedsSpace(kind);
        if (_length + (space ? 1 : 0) + text.Length > _maxLength)
        {
            _full = true;
            return;
        }

        if (space)
        {
            _buffer[_length++] = ' ';
        }

        _lastTokenStart = _length;
        text.CopyTo(_buffer.AsSpan(_length));
        _length += text.Length;
        _previous = kind;
    }

    private bool NeedsSpace(Token kind) => _previous switch
    {
        Token.None or Token.Open or Token.Dot => false,
        _ => kind switch
        {
            Token.Close or Token.Comma or Token.Dot or Token.Semicolon => false,
            Token.Open => _previous is not (Token.Word or Token.Function),
            _ => true,
        },
    };

    private void TrimEnd()
    {
        while (_length > 0 && _buffer[_length - 1] is ' ' or ',' or '(' or '.')
        {
            _length--;
        }
    }

    private static FrozenDictionary<string, bool> BuildKeywords()
    {
        const string Clauses =
            "ADD ALL ALTER AND ANY AS ASC BEGIN BETWEEN BY CALL CASE COLUMN COMMIT CREATE CROSS DATABASE DEFAULT DELETE " +
            "DESC DESCRIBE DISTINCT DO DROP DUPLICATE ELSE END ESCAPE EXISTS EXPLAIN FALSE FOR FROM FULL GROUP HAVING IF " +
            "IGNORE IN INDEX INNER INSERT INTERVAL INTO IS JOIN KEY KILL LEFT LIKE LIMIT LOCK NATURAL NOT NULL OFFSET ON OR " +
            "ORDER OUTER PRIMARY PROCEDURE RECURSIVE REGEXP RELEASE RENAME REPLACE RETURNING RIGHT ROLLBACK ROW ROWS SAVEPOINT " +
            "SCHEMA SELECT SET SHARE SHOW SOME START STRAIGHT_JOIN TABLE TABLES TEMPORARY THEN TO TRANSACTION TRUE TRUNCATE " +
            "UNION UNIQUE UNLOCK UPDATE USE USING VALUE VALUES VIEW WHEN WHERE WITH XOR";
        const string Functions =
            "ABS AVG CAST CEIL COALESCE CONCAT CONVERT COUNT CURDATE CURRENT_TIMESTAMP DATE DATE_ADD DATE_SUB FLOOR " +
            "GREATEST GROUP_CONCAT IFNULL LAST_INSERT_ID LEAST LENGTH LOWER MAX MD5 MIN NOW NULLIF ROUND SLEEP SUBSTRING " +
            "SUM TRIM UPPER UUID";
        var keywords = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var word in Clauses.Split(' '))
        {
            keywords[word] = false;
        }

        foreach (var word in Functions.Split(' '))
        {
            keywords[word] = true;
        }

        return keywords.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Repeated fingerprints as shared strings, without allocating on a hit; bounded, then new ones are returned uncached.</summary>
    private sealed class Interner
    {
        private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
        private readonly int _capacity;

        public Interner(int capacity)
        {
            _capacity = capacity;
            _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public string Intern(ReadOnlySpan<char> text)
        {
            if (_lookup.TryGetValue(text, out var interned))
            {
                return interned;
            }

            var created = new string(text);
            if (_strings.Count < _capacity)
            {
                _strings.Add(created, created);
            }

            return created;
        }
    }
}
