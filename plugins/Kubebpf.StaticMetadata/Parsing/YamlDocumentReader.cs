using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Kubebpf.StaticMetadata.Parsing;

/// <summary>Reads YAML into a <see cref="DocumentNode"/> tree with YamlDotNet's representation model.</summary>
internal static class YamlDocumentReader
{
    public static DocumentNode? Read(string path, string text)
    {
        var stream = new YamlStream();
        var parser = new PositionTrackingParser(new Parser(new StringReader(text)));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            throw new WorkloadFileException(path, (int)e.Start.Line, $"invalid YAML: {Innermost(e).Message}");
        }
        catch (InvalidOperationException)
        {
            // Some malformed inputs (an unclosed flow sequence) surface as a state error without a position.
            throw new WorkloadFileException(path, parser.LastLine, "invalid YAML near here: the structure is incomplete (an unclosed '[', '{' or quote?)");
        }

        return stream.Documents.Count switch
        {
            0 => null,
            1 => Convert(stream.Documents[0].RootNode),
            _ => throw new WorkloadFileException(path, (int)stream.Documents[1].RootNode.Start.Line,
                "the file holds several YAML documents; put every workload in one 'workloads' list"),
        };
    }

    private static DocumentNode Convert(YamlNode node)
    {
        var line = (int)node.Start.Line;
        return node switch
        {
            YamlMappingNode map => new MappingNode(line, [.. map.Children.Select(child => new MappingEntry(
                child.Key is YamlScalarNode key ? key.Value ?? "" : "", (int)child.Key.Start.Line, Convert(child.Value)))]),
            YamlSequenceNode sequence => new SequenceNode(line, [.. sequence.Children.Select(Convert)]),
            YamlScalarNode scalar => new ScalarNode(line, IsNull(scalar) ? null : scalar.Value),
            _ => new ScalarNode(line, null),
        };
    }

    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    // YamlDotNet wraps the useful message ("duplicate key", "did not find expected ...") in a generic one.
    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;

    /// <summary>Remembers where the last event started, for errors that carry no position of their own.</summary>
    private sealed class PositionTrackingParser(IParser inner) : IParser
    {
        public int LastLine { get; private set; }

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            var moved = inner.MoveNext();
            if (inner.Current is { } current)
            {
                LastLine = (int)current.Start.Line;
            }

            return moved;
        }
    }
}
