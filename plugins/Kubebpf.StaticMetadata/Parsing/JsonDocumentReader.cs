using System.Text;
using System.Text.Json;

namespace Kubebpf.StaticMetadata.Parsing;

/// <summary>
/// Reads JSON into a <see cref="DocumentNode"/> tree. Uses <see cref="Utf8JsonReader"/> directly because
/// <see cref="JsonDocument"/> does not tell where an element is; comments and trailing commas are accepted.
/// </summary>
internal static class JsonDocumentReader
{
    private static readonly JsonReaderOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static DocumentNode? Read(string path, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var lines = new LineIndex(bytes);
        var reader = new Utf8JsonReader(bytes, Options);
        try
        {
            return reader.Read() ? ReadValue(ref reader, lines) : null;
        }
        catch (JsonException e)
        {
            throw new WorkloadFileException(path, (int)(e.LineNumber ?? 0) + 1, $"invalid JSON: {FirstSentence(e.Message)}");
        }
    }

    private static DocumentNode ReadValue(ref Utf8JsonReader reader, LineIndex lines)
    {
        var line = lines.LineOf(reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var entries = new List<MappingEntry>();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var key = reader.GetString() ?? "";
                    var keyLine = lines.LineOf(reader.TokenStartIndex);
                    reader.Read();
                    entries.Add(new MappingEntry(key, keyLine, ReadValue(ref reader, lines)));
                }

                return new MappingNode(line, entries);
            case JsonTokenType.StartArray:
                var items = new List<DocumentNode>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadValue(ref reader, lines));
                }

                return new SequenceNode(line, items);
            case JsonTokenType.String:
                return new ScalarNode(line, reader.GetString());
            case JsonTokenType.Null:
                return new ScalarNode(line, null);
            default:
                // Numbers and booleans keep their literal text, as YAML scalars do.
                return new ScalarNode(line, Encoding.UTF8.GetString(reader.ValueSpan));
        }
    }

    // The reader's messages append "LineNumber: 3 | BytePositionInLine: 7." which our prefix already says.
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    /// <summary>Maps byte offsets to 1-based line numbers.</summary>
    private sealed class LineIndex
    {
        private readonly List<long> _lineStarts = [0];

        public LineIndex(ReadOnlySpan<byte> utf8)
        {
            for (var i = 0; i < utf8.Length; i++)
            {
                if (utf8[i] == (byte)'\n')
                {
                    _lineStarts.Add(i + 1);
                }
            }
        }

        public int LineOf(long offset)
        {
            var index = _lineStarts.BinarySearch(offset);
            return (index >= 0 ? index : ~index - 1) + 1;
        }
    }
}
