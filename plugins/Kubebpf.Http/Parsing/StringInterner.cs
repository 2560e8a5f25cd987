using System.Text;

namespace Kubebpf.Http.Parsing;

/// <summary>
/// Turns repeated byte values (Host headers, non-standard methods) into shared strings without allocating on a hit.
/// Bounded: once full, new values are returned uncached, so hostile input cannot grow it. Not thread-safe.
/// </summary>
internal sealed class StringInterner
{
    private const int MaxCachedLength = 256;
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int _capacity;

    public StringInterner(int capacity)
    {
        _capacity = capacity;
        _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _strings.Count;

    public string Intern(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return string.Empty;
        }

        if (utf8.Length > MaxCachedLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        Span<char> chars = stackalloc char[MaxCachedLength];
        chars = chars[..Encoding.UTF8.GetChars(utf8, chars)];
        if (_lookup.TryGetValue(chars, out var interned))
        {
            return interned;
        }

        var text = new string(chars);
        if (_strings.Count < _capacity)
        {
            _strings.Add(text, text);
        }

        return text;
    }
}
